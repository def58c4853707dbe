"""The services Sym's SDK integration calls reach: PagerDuty, Okta, KnowBe4, AWS Lambda, Slack.

Framework code for the reducer runtime. ``IntegrationServices`` is built once per worker (the
secret reader, the identity store, one HTTP client, base URL overrides); the runner makes an
``IntegrationHub`` for each reducer call, which finds the flow's ``sym_integration`` of a type,
reads its token from Secrets Manager and hands the SDK a client. Every failure is the
integration's own ``SymException`` subclass (``PagerDutyError``...), as in Sym, so that a
hook's ``except SymException`` fallback works as written.
"""

from jitflow.integrations.hub import IntegrationHub
from jitflow.integrations.services import ENDPOINT_ENV, IntegrationServices

__all__ = ["ENDPOINT_ENV", "IntegrationHub", "IntegrationServices"]
