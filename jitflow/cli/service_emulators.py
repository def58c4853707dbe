"""``jitflow emulator pagerduty|okta|knowbe4|lambda``: the integrations' APIs, on this machine.

Each serves what reducers' SDK calls use (see ``jitflow/emulator/<service>.py``), from a JSON
state file (``--state``, the emulator's state model) or empty, and prints the environment
variable that points the worker at it. A worker started with that variable (and the token in
the ``sym_secret`` its integration names) runs hooks against the emulator instead of the service.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import BaseModel, ValidationError

from jitflow.contracts.names import SLACK_API_URL_ENV
from jitflow.emulator import knowbe4, lambda_api, okta, pagerduty
from jitflow.emulator.server import bind_socket, build_server
from jitflow.emulator.service import ServiceApp
from jitflow.emulator.slack import create_slack_app
from jitflow.emulator.slack_state import DEFAULT_BOT_TOKEN, DEFAULT_SIGNING_SECRET, SlackState
from jitflow.integrations.services import ENDPOINT_ENV

M = TypeVar("M", bound=BaseModel)


def _state(model: type[M], path: Path | None) -> M:
    if path is None:
        return model()
    try:
        return model.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise click.BadParameter(
            f"cannot read {path}: {error.strerror}", param_hint="--state"
        ) from None
    except ValidationError as error:
        raise click.BadParameter(
            f"{path} is not a valid state: {error}", param_hint="--state"
        ) from None


def _serve(app: ServiceApp, host: str, port: int, variable: str, log_level: str) -> None:
    try:
        sock = bind_socket(host, port)
    except OSError as error:
        raise click.ClickException(str(error)) from None
    url = f"http://{host}:{sock.getsockname()[1]}"
    click.echo(json.dumps({variable: url}))
    build_server(app, log_level=log_level).run(sockets=[sock])


def _options(default_port: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        for option in reversed(
            [
                click.option("--host", default="127.0.0.1", show_default=True),
                click.option(
                    "--port", default=default_port, show_default=True, type=click.IntRange(0, 65535)
                ),
                click.option("--log-level", default="info", show_default=True),
            ]
        ):
            command = option(command)
        return command

    return decorate


_STATE = click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="JSON state (the emulator's state model); empty without it.",
)


@click.command("pagerduty")
@_options(8781)
@_STATE
@click.option("--token", default=pagerduty.DEFAULT_TOKEN, show_default=True)
def pagerduty_command(
    host: str, port: int, log_level: str, state_file: Path | None, token: str
) -> None:
    """Serve PagerDuty's REST API (users, schedules, policies, on-calls, incidents)."""
    app = pagerduty.create_pagerduty_app(_state(pagerduty.PagerDutyState, state_file), token)
    _serve(app, host, port, ENDPOINT_ENV["pagerduty"], log_level)


@click.command("okta")
@_options(8782)
@_STATE
@click.option("--token", default=okta.DEFAULT_TOKEN, show_default=True)
def okta_command(host: str, port: int, log_level: str, state_file: Path | None, token: str) -> None:
    """Serve Okta's users and groups API."""
    app = okta.create_okta_app(_state(okta.OktaState, state_file), token)
    _serve(app, host, port, ENDPOINT_ENV["okta"], log_level)


@click.command("knowbe4")
@_options(8783)
@_STATE
@click.option("--token", default=knowbe4.DEFAULT_TOKEN, show_default=True)
def knowbe4_command(
    host: str, port: int, log_level: str, state_file: Path | None, token: str
) -> None:
    """Serve KnowBe4's Reporting API (users, training enrollments)."""
    app = knowbe4.create_knowbe4_app(_state(knowbe4.KnowBe4State, state_file), token)
    _serve(app, host, port, ENDPOINT_ENV["knowbe4"], log_level)


def _handler(spec: str) -> tuple[str, lambda_api.Handler]:
    """``NAME=package.module:function`` -> the function to run as Lambda ``NAME``."""
    name, _, target = spec.partition("=")
    module_name, _, attribute = target.partition(":")
    if not name or not module_name or not attribute:
        raise click.BadParameter(
            f"{spec!r} must look like NAME=module:function", param_hint="--function"
        )
    try:
        handler: Any = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise click.BadParameter(f"{spec!r}: {error}", param_hint="--function") from None
    if not callable(handler):
        raise click.BadParameter(f"{spec!r} is not callable", param_hint="--function")
    return name, handler


def _echo(event: Any, context: dict[str, Any]) -> Any:
    """The built-in ``echo`` function: answers with what it was sent."""
    return {"event": event, "function": context.get("function_name")}


@click.command("lambda")
@_options(8784)
@click.option(
    "--function",
    "functions",
    multiple=True,
    metavar="NAME=MODULE:FUNCTION",
    help="A function to serve, a Python handler(event, context); `echo` is always there.",
)
def lambda_command(host: str, port: int, log_level: str, functions: tuple[str, ...]) -> None:
    """Serve AWS Lambda's Invoke API, running Python handlers (also AWS_ENDPOINT_URL_LAMBDA)."""
    handlers: dict[str, lambda_api.Handler] = {"echo": _echo}
    handlers.update(_handler(spec) for spec in functions)
    app = lambda_api.create_lambda_app(lambda_api.LambdaState(functions=handlers))
    _serve(app, host, port, ENDPOINT_ENV["aws_lambda"], log_level)


@click.command("slack")
@_options(8785)
@_STATE
@click.option("--bot-token", default=DEFAULT_BOT_TOKEN, show_default=True)
@click.option("--signing-secret", default=DEFAULT_SIGNING_SECRET, show_default=True)
@click.option(
    "--front-door",
    help="Where played clicks go: jitflow slack serve's URL (http://127.0.0.1:8786/slack/interactions).",
)
@click.option(
    "--commands-url",
    help="Where played slash commands go (http://127.0.0.1:8786/slack/commands); --front-door without.",
)
def slack_command(
    host: str,
    port: int,
    log_level: str,
    state_file: Path | None,
    bot_token: str,
    signing_secret: str,
    front_door: str | None,
    commands_url: str | None,
) -> None:
    """Serve Slack's Web API (messages, users, DMs, modals) and play clicks, signed as Slack does."""
    state = _state(SlackState, state_file)
    state.bot_token, state.signing_secret = bot_token, signing_secret
    state.front_door_url = front_door or state.front_door_url
    state.commands_url = commands_url or state.commands_url
    try:
        sock = bind_socket(host, port)
    except OSError as error:
        raise click.ClickException(str(error)) from None
    url = f"http://{host}:{sock.getsockname()[1]}"
    click.echo(
        json.dumps({SLACK_API_URL_ENV: f"{url}/api/", "messages": f"{url}/_emulator/messages"})
    )
    build_server(create_slack_app(state), log_level=log_level).run(sockets=[sock])


def register(group: click.Group) -> None:
    """Add the integration emulators to ``jitflow emulator``."""
    for command in (
        pagerduty_command,
        okta_command,
        knowbe4_command,
        lambda_command,
        slack_command,
    ):
        group.add_command(command)
