"""Sym's integration helpers (``sym.sdk.integrations``).

Everything here imports and builds values (``slack.channel("#x")``) so that real ``impl.py`` files
load. ``pagerduty``, ``okta``, ``knowbe4``, ``aws_lambda`` and ``slack`` call their services
through the flow's integrations (``jitflow.integrations``); ``sym`` answers from jitflow's user
store. A call jitflow cannot make raises, when called, its integration's own ``SymException``
subclass (``GoogleError("NOT_SUPPORTED", ...)``), as a failed call does in Sym.
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
