"""Sym's integration helpers (``sym.sdk.integrations``).

Everything here imports and builds values (``slack.channel("#x")``) so that real ``impl.py`` files
load. Calls that need a service jitflow does not talk to yet raise ``NotImplementedError`` naming
the function when they are called; ``sym`` works against jitflow's own user store.
"""

from jitflow.sdk.integrations import (
    aws_iam,
    aws_lambda,
    aws_sso,
    boundary,
    github,
    google,
    jira,
    knowbe4,
    okta,
    onelogin,
    pagerduty,
    slack,
    store,
    sym,
)

__all__ = [
    "aws_iam",
    "aws_lambda",
    "aws_sso",
    "boundary",
    "github",
    "google",
    "jira",
    "knowbe4",
    "okta",
    "onelogin",
    "pagerduty",
    "slack",
    "store",
    "sym",
]
