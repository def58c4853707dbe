"""``jitflow request --help`` lists what may be requested, read from the configuration.

A requester cannot guess that the role is called ``admin_prod`` or that ``7m`` is not an allowed
duration; the worker would refuse the request after it started. When a configuration is at hand
(``--config``, else ``JITFLOW_CONFIG``, else ``examples/aptible`` when that folder exists, as the
worker looks), the help shows each flow's targets, allowed durations and prompt fields as the
options that give them. The worker's own configuration stays the authority: this is a guide.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import click

from jitflow.cli.naming import name_commands
from jitflow.config.durations import format_duration
from jitflow.config.issues import ConfigErrors
from jitflow.config.loader import load_config
from jitflow.config.lookup import flow_targets
from jitflow.config.models import Flow, JitflowConfig, PromptField

CONFIG_ENV = "JITFLOW_CONFIG"
#: Where the worker looks when neither ``--config`` nor ``JITFLOW_CONFIG`` says.
DEFAULT_CONFIG = "examples/aptible"
#: Fields the request gives through its own options, never through ``--field``.
_BUILT_IN_FIELDS = frozenset({"duration", "target_id"})

_RAW_ARGS = "jitflow.raw_args"


def _option_value(args: Sequence[str], name: str) -> str | None:
    """The last value of ``name`` among the raw arguments (``--config DIR`` or ``--config=DIR``):
    ``--help`` is handled before the other options are parsed."""
    found = None
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            found = args[index + 1]
        elif arg.startswith(f"{name}="):
            found = arg.split("=", 1)[1]
    return found


def config_source(args: Sequence[str], environ: dict[str, str] | None = None) -> str | None:
    """The configuration the help describes, or None when there is none to read."""
    env = os.environ if environ is None else environ
    given = _option_value(args, "--config") or env.get(CONFIG_ENV)
    if given:
        return given
    return DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_dir() else None


def _field_option(field: PromptField) -> str:
    if field.name == "reason":
        return "--reason TEXT"
    allowed = f" ({' | '.join(field.allowed_values)})" if field.allowed_values else ""
    return f"--field {field.name}=VALUE{allowed}"


def _flow_rows(config: JitflowConfig, flow: Flow) -> list[tuple[str, str]]:
    targets = [
        f"{target.key} ({target.label})" if target.label else target.key
        for target in flow_targets(config, flow)
    ]
    rows = [
        ("--target", ", ".join(targets) or "none (the flow has no Aptible strategy)"),
        ("--duration", ", ".join(format_duration(seconds) for seconds in flow.durations)),
    ]
    asked = [f for f in flow.params.prompt_fields if f.name not in _BUILT_IN_FIELDS]
    required = [f for f in asked if f.required and f.default is None]
    optional = [f for f in asked if f not in required]
    if required:
        rows.append(("required", ", ".join(_field_option(f) for f in required)))
    if optional:
        rows.append(("optional", ", ".join(_field_option(f) for f in optional)))
    return rows


def describe_flows(path: str) -> tuple[str, list[tuple[str, list[tuple[str, str]]]]]:
    """A heading and, per flow, its name and rows; or a heading that says why there are none."""
    try:
        config = load_config(path)
    except ConfigErrors as errors:
        count = len(errors.errors)
        return (
            f"Flows: {path} does not load ({count} error{'s' if count != 1 else ''}; "
            f"`jitflow validate {path}` lists them)",
            [],
        )
    flows = []
    for flow in sorted(config.flows.values(), key=lambda f: f.name):
        title = f"{flow.name} ({flow.label})" if flow.label else flow.name
        flows.append((title, _flow_rows(config, flow)))
    return f"Flows in {path} (--config, {CONFIG_ENV})", flows


class RequestCommand(click.Command):
    """A command whose help ends with the flows of the configuration at hand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_RAW_ARGS] = list(args)
        return super().parse_args(ctx, args)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        path = config_source(ctx.meta.get(_RAW_ARGS, []))
        if path is None:
            formatter.write_paragraph()
            formatter.write_text(
                f"Pass --config DIR or set {CONFIG_ENV} to list the flows' targets and durations."
            )
            return
        heading, flows = describe_flows(path)
        formatter.write_paragraph()
        # Written as is, not wrapped: it may hold a path and a command to copy.
        formatter.write(f"{name_commands(heading)}\n")
        for title, rows in flows:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(title)
                with formatter.indentation():
                    formatter.write_dl(rows)
