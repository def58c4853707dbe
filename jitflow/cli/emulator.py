"""``jitflow emulator``: local stand-ins for the services jitflow calls (Aptible auth, and the
integrations reducers call: PagerDuty, Okta, KnowBe4, AWS Lambda)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from jitflow.cli.service_emulators import register as register_service_emulators
from jitflow.emulator.app import create_app
from jitflow.emulator.faults import FaultConfig
from jitflow.emulator.server import bind_socket, build_server
from jitflow.emulator.settings import EmulatorSettings
from jitflow.emulator.state import EmulatorState, StateError

EXAMPLE_STATE = Path(__file__).resolve().parents[2] / "examples/aptible/emulator-state.json"


def _load_faults(value: str | None) -> FaultConfig | None:
    """``--faults`` takes inline JSON or ``@file``."""
    if value is None:
        return None
    if value.startswith("@"):
        try:
            text = Path(value[1:]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise click.BadParameter(
                f"cannot read {value[1:]!r}: {reason}", param_hint="--faults"
            ) from None
    else:
        text = value
    try:
        return FaultConfig.model_validate_json(text)
    except ValueError as exc:
        raise click.BadParameter(f"invalid fault configuration {value!r}: {exc}") from None


@click.group("emulator")
def emulator() -> None:
    """Run local emulators of the APIs jitflow calls."""


@emulator.command("aptible")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8780, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON state file, loaded at start and saved after every change "
    "(created from the example state when missing). Without it the example state is "
    "served from memory and nothing is saved.",
)
@click.option("--per-page", type=click.IntRange(1, 1000), help="Default page size of lists.")
@click.option("--faults", "faults_spec", help="Fault configuration: inline JSON or @file.")
@click.option("--log-level", default="info", show_default=True)
def aptible(
    host: str,
    port: int,
    state_file: Path | None,
    per_page: int | None,
    faults_spec: str | None,
    log_level: str,
) -> None:
    """Serve an emulator of Aptible's auth API (point APTIBLE_AUTH_ROOT_URL at it)."""
    try:
        if state_file is not None and state_file.exists():
            state = EmulatorState.from_file(state_file)
        else:
            state = EmulatorState.from_file(EXAMPLE_STATE)
    except StateError as exc:
        raise click.ClickException(str(exc)) from None
    settings = EmulatorSettings(per_page=per_page) if per_page else EmulatorSettings()
    try:
        app = create_app(
            state, settings=settings, faults=_load_faults(faults_spec), state_path=state_file
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if state_file is not None:
        app.runtime.changed()
    try:
        sock = bind_socket(host, port)
    except OSError as exc:
        raise click.ClickException(str(exc)) from None
    bound_port = sock.getsockname()[1]
    click.echo(
        json.dumps({"aptible_auth_root_url": f"http://{host}:{bound_port}"}),
    )
    build_server(app, log_level=log_level).run(sockets=[sock])


# The integrations' emulators (PagerDuty, Okta, KnowBe4, Lambda) live in their own module.
register_service_emulators(emulator)
