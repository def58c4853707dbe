"""``jitflow validate``: load a configuration, print its summary or every error in it."""

from __future__ import annotations

import asyncio

import click

from jitflow.config.checks import run_post_load_checks
from jitflow.config.issues import ConfigErrors
from jitflow.config.loader import load_config
from jitflow.config.models import JitflowConfig
from jitflow.config.summary import render_summary

#: Where ``validate`` looks when given no PATH and ``JITFLOW_CONFIG`` is unset.
DEFAULT_CONFIG_PATH = "examples/aptible"


def parse_var(text: str) -> tuple[str, str]:
    """``name=value`` -> ``(name, value)``; a clear error naming the option otherwise."""
    name, separator, value = text.partition("=")
    if not separator or not name.strip():
        raise click.BadParameter(f"{text!r} must look like name=value", param_hint="--var")
    return name.strip(), value


@click.command("validate")
@click.argument("path", required=False, envvar="JITFLOW_CONFIG", default=DEFAULT_CONFIG_PATH)
@click.option(
    "--var",
    "var_options",
    multiple=True,
    metavar="NAME=VALUE",
    help="Set a Terraform variable (wins over JITFLOW_VAR_<NAME> and defaults).",
)
@click.option(
    "--online",
    is_flag=True,
    help="Also log in as each bot (Secrets Manager, then Aptible) and check every target role.",
)
def validate(path: str, var_options: tuple[str, ...], online: bool) -> None:
    """Check the sym_* Terraform configuration at PATH (a folder of .tf files or one file).

    PATH defaults to $JITFLOW_CONFIG, then examples/aptible. Exits 0 and prints a summary when
    the configuration is valid; exits 1 and prints every error otherwise. With --online it also
    checks, as the worker does at start, that each bot logs in and that every target role exists
    in the integration's organization, is not owner-type or SCIM-managed, and is one the bot may
    manage; any problem found then makes it exit 1.
    """
    variables = dict(parse_var(text) for text in var_options)
    try:
        config = load_config(path, variables)
    except ConfigErrors as failure:
        click.echo(f"{path}: invalid configuration", err=True)
        click.echo(failure.report(), err=True)
        if failure.warnings:
            click.echo(f"{len(failure.warnings)} warning(s):", err=True)
            for warning in failure.warnings:
                click.echo(f"  - {warning}", err=True)
        raise SystemExit(1) from None
    check_issues = run_post_load_checks(config)
    errors = [issue for issue in check_issues if issue.severity == "error"]
    warnings = [issue for issue in check_issues if issue.severity == "warning"]
    if warnings:
        config = config.model_copy(
            update={"warnings": config.warnings + tuple(str(w) for w in warnings)}
        )
    if errors:
        click.echo(f"{path}: invalid configuration", err=True)
        click.echo(ConfigErrors(errors).report(), err=True)
        raise SystemExit(1)
    click.echo(render_summary(config), nl=False)
    if online:
        _check_online(config)
    click.echo(f"{path}: valid")


def _check_online(config: JitflowConfig) -> None:
    from activities.aptible.online_check import online_preflight

    problems = asyncio.run(online_preflight(config))
    if problems:
        click.echo(f"online check: {len(problems)} problem(s):", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        raise SystemExit(1)
    click.echo("online check: every bot logs in and every target role is ready")
