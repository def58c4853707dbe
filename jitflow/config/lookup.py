"""Lookups over a loaded configuration that workflows need; pure, no I/O."""

from __future__ import annotations

from jitflow.config.models import AptibleRoleTarget, Flow, JitflowConfig


def flow_targets(config: JitflowConfig, flow: Flow) -> tuple[AptibleRoleTarget, ...]:
    """The targets a requester of ``flow`` may pick, in the strategy's order (empty without one)."""
    strategy = config.strategies.get(flow.params.strategy or "")
    if strategy is None:
        return ()
    return tuple(config.targets[key] for key in strategy.targets if key in config.targets)


def find_target(config: JitflowConfig, flow: Flow, text: str) -> AptibleRoleTarget | None:
    """Find the target of ``flow``'s strategy that ``text`` designates.

    ``text`` may be the target's resource key (``admin_prod``), its ``name``, its ``label``
    (all case-insensitive) or its Aptible ``role_id``. Only targets of the flow's own strategy
    match, so a request can never reach a role another flow manages.
    """
    wanted = text.strip().lower()
    if not wanted:
        return None
    for target in flow_targets(config, flow):
        candidates = {target.key.lower(), target.name.lower(), target.role_id.lower()}
        if target.label:
            candidates.add(target.label.lower())
        if wanted in candidates:
            return target
    return None
