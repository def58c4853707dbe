"""A hook whose exception carries a webhook URL and a token, as real ones do."""

from reducers import hook


@hook
def on_request(event):  # type: ignore[no-untyped-def]
    raise RuntimeError(
        "POST https://hooks.example.com/services/T000/B000/s3cr3tWebhookPath?key=abc failed: "
        "token=hunter2hunter2"
    )
