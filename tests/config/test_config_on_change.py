"""A prompt field's ``on_change``: the file holding ``on_change_<field>``, kept and checked."""

from __future__ import annotations

from typing import Any

HANDLER = "def on_change_urgency(username, form):\n    return form\n"


def with_field(flow: str, on_change: str, name: str = "urgency") -> str:
    return flow.replace(
        "strategy_id = sym_strategy.this.id",
        "strategy_id = sym_strategy.this.id\n"
        f'    prompt_field {{\n      name = "{name}"\n      type = "string"\n'
        f"      on_change = {on_change}\n    }}",
    )


def test_on_change_file_is_kept_as_its_path_without_a_warning(
    write_config: Any, load_ok: Any, base: str, flow: str
) -> None:
    folder = write_config(base + with_field(flow, 'file("on_change.py")'), on_change__py=HANDLER)
    config = load_ok(folder)
    (field,) = config.flows["this"].params.prompt_fields
    assert field.on_change == str((folder / "on_change.py").resolve())
    assert not any("on_change" in w for w in config.warnings)


def test_a_path_relative_to_the_tf_file(
    write_config: Any, load_ok: Any, base: str, flow: str
) -> None:
    folder = write_config(base + with_field(flow, '"on_change.py"'), on_change__py=HANDLER)
    (field,) = load_ok(folder).flows["this"].params.prompt_fields
    assert field.on_change == str((folder / "on_change.py").resolve())


def test_inline_code_and_a_missing_file_are_errors(
    write_config: Any, load_errors: Any, base: str, flow: str
) -> None:
    inline = with_field(flow, '"def on_change_urgency(username, form):\\n  return form"')
    (error,) = load_errors(write_config(base + inline))
    assert error.message.startswith("on_change holds Python code; jitflow loads it from a file")
    (missing,) = load_errors(write_config(base + with_field(flow, 'file("nope.py")')))
    assert (
        missing.message.startswith("on_change file ")
        and "nope.py does not exist" in missing.message
    )


def test_on_change_on_the_target_field_is_not_run(
    write_config: Any, load_ok: Any, base: str, flow: str
) -> None:
    text = with_field(flow, 'file("on_change.py")', name="target_id")
    config = load_ok(write_config(base + text, on_change__py=HANDLER))
    assert any("on_change on the target_id field is not run" in w for w in config.warnings)
