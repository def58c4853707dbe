# A Sym-style impl.py for jitflow's tests, in the shape of Sym's custom integration example: a
# custom integration's API key is read from its secret, and the user's id in that service is
# saved as an identity. Only its import lines name `reducers`.
from reducers.annotations import hook
from reducers.utils import persist_user_identity


@hook
def after_request(event):
    integration = event.flow.environment.integrations["victorops"]
    api_key = integration.settings["secrets"][0].retrieve_value()
    username = event.user.email.split("@")[0]
    identity = persist_user_identity(
        email=event.user.email,
        service="custom",
        service_id=integration.external_id,
        user_id=username,
    )
    return f"key of {len(api_key)} characters; {identity.service}:{identity.service_id} -> {identity.user_id}"
