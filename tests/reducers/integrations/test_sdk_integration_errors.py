"""What Sym's SDK raises when jitflow cannot do what a call asks: the integration's own
``SymException`` subclass, so ``except SymException`` fallbacks work as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from integration_support import config_with, integration, sdk_call
from reducers.utils import persist_user_identity

from jitflow.config.models import SecretRef
from jitflow.identity import IdentityStore
from jitflow.integrations import IntegrationServices
from jitflow.sdk.secret import Secret, SecretSource
from jitflow.sdk.templates import sym_step_output
from reducers import SRN, User, aws_iam, aws_sso, boundary, github, google, jira, onelogin, slack
from reducers import exceptions as errors

BOB = User.from_email("bob@example.com")


@pytest.mark.parametrize(
    ("call", "error", "code"),
    [
        (lambda: slack.send_thread_message("hi"), errors.SlackError, "Slack:NOT_SUPPORTED"),
        (lambda: google.users_in_group("g@x.com"), errors.GoogleError, "Google:NOT_SUPPORTED"),
        (
            lambda: github.get_repo_collaborators(repo_name="r", roles=[]),
            errors.GitHubError,
            "GitHub:NOT_SUPPORTED",
        ),
        (lambda: jira.search_issues(), errors.JiraError, "Jira:NOT_SUPPORTED"),
        (lambda: onelogin.list_roles(), errors.OneLoginError, "OneLogin:NOT_SUPPORTED"),
        (lambda: boundary.list_groups(), errors.BoundaryError, "Boundary:NOT_SUPPORTED"),
        (
            lambda: aws_iam.is_user_in_group(BOB, group_name="g"),
            errors.AWSIAMError,
            "AWSIAM:NOT_SUPPORTED",
        ),
        (lambda: aws_sso.list_groups(), errors.AWSSSOError, "AWSSSO:NOT_SUPPORTED"),
    ],
)
def test_functions_jitflow_lacks_raise_their_integrations_error(
    call: object, error: type[errors.SymException], code: str
) -> None:
    with pytest.raises(error) as caught:
        call()  # type: ignore[operator]
    assert isinstance(caught.value, errors.SymException) and caught.value.error_code == code
    assert "jitflow" in str(caught.value)


def test_secrets_and_identities_need_the_workers_services(tmp_path: Path) -> None:
    secret = Secret(
        srn=SRN.parse("jitflow:secret:aws_secrets_manager:key:latest"),
        id="key",
        path="sym/x",
        source=SecretSource(
            srn=SRN.parse("jitflow:secrets:aws_secrets_manager:this:latest"),
            type="aws_secrets_manager",
        ),
    )
    with pytest.raises(errors.SymIntegrationError, match="only be called from a reducer"):
        secret.retrieve_value()
    config = config_with(None, [])
    with sdk_call(config, IntegrationServices()):
        with pytest.raises(errors.SymIntegrationError, match="there is no sym_secret 'key'"):
            secret.retrieve_value()
        with pytest.raises(errors.CouldNotSaveError, match="no identity store"):
            persist_user_identity(email="a@x.com", service="custom", service_id="s", user_id="u")
    with IdentityStore.open(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        with sdk_call(config, IntegrationServices(identities=store)):
            saved = persist_user_identity(
                email="New@Example.com", service="okta", service_id="acme.okta.com", user_id="00u1"
            )
            assert (saved.service, saved.user_id) == ("okta", "00u1")
            with pytest.raises(errors.CouldNotSaveError, match="unknown service type 'nope'"):
                persist_user_identity(email="a@x.com", service="nope", service_id="s", user_id="u")
        assert store.get_identity("new@example.com", "okta", "acme.okta.com") == "00u1"


def test_slack_calls_outside_a_reducer_raise_slack_error() -> None:
    with pytest.raises(errors.SlackError) as caught:
        slack.users_in_channel("#ops")
    assert caught.value.error_code == "Slack:NOT_AVAILABLE"
    assert "slack.users_in_channel can only be called from a reducer" in str(caught.value)


def test_a_worker_without_a_secret_reader_says_so(tokens: dict[str, SecretRef]) -> None:
    config = config_with(
        None, [integration("pd", "pagerduty", "acme.pagerduty.com", token=tokens["pagerduty"])]
    )
    from reducers import pagerduty

    with sdk_call(config, IntegrationServices()), pytest.raises(errors.PagerDutyError) as caught:
        pagerduty.is_on_call(BOB)
    assert caught.value.error_code == "PagerDuty:SECRETS_UNAVAILABLE"


def test_step_outputs_get_syms_body_and_errors_keys() -> None:
    recorded = {"membership_id": "m1", "preexisting": False}
    assert sym_step_output(recorded) == {**recorded, "body": recorded, "errors": []}
    lambda_shaped = {"body": {"message": "granted"}, "errors": ["late"]}
    assert sym_step_output(lambda_shaped) == lambda_shaped
    assert sym_step_output({}) == {}
