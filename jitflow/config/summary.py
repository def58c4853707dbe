"""A readable text summary of a loaded configuration: flows -> strategy -> targets ->
integration -> secrets, then warnings, unresolved references and set-aside blocks."""

from __future__ import annotations

from collections.abc import Sequence

from jitflow.config.durations import format_duration
from jitflow.config.integrations import flow_integrations
from jitflow.config.models import AptibleIntegration, Flow, JitflowConfig, SecretRef


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "") -> list[str]:
    """Left-aligned columns, as wide as their widest cell."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    lines = []
    for row in [headers, *rows]:
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def _flow_lines(config: JitflowConfig, flow: Flow) -> list[str]:
    title = f"Flow {flow.name} (sym_flow.{flow.key})" + (f' "{flow.label}"' if flow.label else "")
    implementation = (
        f"{flow.implementation.display} ({flow.implementation.kind})"
        if flow.implementation
        else "jitflow defaults (users with the admin role approve)"
    )
    timeout = "never" if flow.request_timeout is None else format_duration(flow.request_timeout)
    lines = [
        title,
        f"  implementation:  {implementation}",
        f"  durations:       {', '.join(format_duration(s) for s in flow.durations)}",
        f"  request timeout: {timeout}",
    ]
    reachable = flow_integrations(config, flow)
    if reachable:
        names = ", ".join(
            f"{name} (sym_integration.{integration.key})"
            for name, integration in sorted(reachable.items())
        )
        lines.append(f"  integrations:    {names}")
    strategy = config.strategies.get(flow.params.strategy or "")
    if strategy is None:
        lines.append("  strategy:        none (approval-only flow)")
        return lines
    lines.append(f"  strategy:        {strategy.name} (sym_strategy.{strategy.key})")
    targets = [config.targets[key] for key in strategy.targets]
    lines.append("    targets:")
    lines += table(
        ["NAME", "LABEL", "ROLE_ID", "RESOURCE"],
        [[t.name, t.label or "-", t.role_id, f"sym_target.{t.key}"] for t in targets],
        indent="      ",
    )
    lines += _integration_lines(config, config.integrations[strategy.integration])
    return lines


def _integration_lines(config: JitflowConfig, integration: AptibleIntegration) -> list[str]:
    lines = [
        f"    integration: {integration.name} (sym_integration.{integration.key}), "
        f"Aptible org {integration.org_id}",
        "      secrets:",
    ]

    def row(role: str, secret: SecretRef) -> list[str]:
        source = config.secret_sources.get(secret.source)
        source_text = f"{source.name} ({secret.source_type})" if source else secret.source
        return [role, f"sym_secret.{secret.key}", source_text, secret.path, secret.json_key or "-"]

    lines += table(
        ["FOR", "SECRET", "SOURCE", "PATH", "JSON_KEY"],
        [
            row("username", integration.username_secret),
            row("password", integration.password_secret),
        ],
        indent="        ",
    )
    return lines


def render_summary(config: JitflowConfig) -> str:
    """The summary ``jitflow validate`` prints for a valid configuration."""
    count = len(config.files)
    lines = [f"Loaded {count} file{'s' if count != 1 else ''}: {', '.join(config.files)}", ""]
    if not config.flows:
        lines += ["No sym_flow resources: nothing to run.", ""]
    for flow in config.flows.values():
        lines += [*_flow_lines(config, flow), ""]
    # Integrations other than Aptible are kept as written and used by what needs them: Slack
    # delivery and the front door, and reducers' calls (PagerDuty, Okta, ...).
    used = [
        i for i in config.kept if i.type == "sym_integration" and i.key in config.sym_integrations
    ]
    idle = [i for i in config.kept if i not in used]
    if used:
        names = ", ".join(
            f"sym_integration.{i.key} ({config.sym_integrations[i.key].type})" for i in used
        )
        lines += [f"Integrations for hooks and Slack: {names}", ""]
    if idle:
        kept = ", ".join(f"{item.type}.{item.key}" for item in idle)
        lines += [f"Kept without acting on them: {kept}", ""]
    if config.warnings:
        lines.append(f"Warnings ({len(config.warnings)}):")
        lines += [f"  - {warning}" for warning in config.warnings]
        lines.append("")
    if config.unresolved:
        lines.append(f"Unresolved references, not needed by jitflow ({len(config.unresolved)}):")
        for item in config.unresolved:
            where = f"{item.location.file}:{item.location.line}: " if item.location else ""
            lines.append(
                f"  - {where}{item.address}.{item.attribute} = {item.expression} ({item.reason})"
            )
        lines.append("")
    if config.set_aside:
        lines.append(f"Set aside ({len(config.set_aside)}):")
        for block in config.set_aside:
            where = f"{block.location.file}:{block.location.line}: " if block.location else ""
            lines.append(f"  - {where}{block.address}" + (f" ({block.note})" if block.note else ""))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
