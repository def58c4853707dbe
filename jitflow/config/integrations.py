"""Every ``sym_integration`` as reducers' SDK calls see it, and which one a flow's call uses.

Sym's SDK finds an integration through the flow's ``sym_environment``: its ``integrations`` map
(``pagerduty_id = sym_integration.pd.id``) names the integration that ``pagerduty.is_on_call``
uses, under the map key without ``_id``. jitflow reads that map, and, so that a configuration
without a ``sym_environment`` still works, also offers each integration type that appears once
under its type name. The builders here never fail a load over an integration jitflow only
passes on to reducers: what is wrong is a warning, and the call that needs it raises the
integration's own error when it is made.
"""

from __future__ import annotations

import json

from jitflow.config.evaluate import BROKEN, ResourceId, Unknown
from jitflow.config.fields import Entry, ResourceReader
from jitflow.config.issues import Site, nearest
from jitflow.config.models import (
    Flow,
    JitflowConfig,
    SecretRef,
    SymIntegration,
)

#: The setting of a ``custom`` integration holding a JSON list of ``sym_secret`` ids.
SECRET_LIST_SETTING = "secret_ids_json"

#: Settings each integration type needs before its SDK calls can work (Sym's provider requires
#: them too). A missing one is a warning at load and an error of that integration when called.
REQUIRED_SETTINGS: dict[str, tuple[str, ...]] = {
    "pagerduty": ("api_token_secret",),
    "okta": ("api_token_secret",),
    "knowbe4": ("api_token_secret", "region"),
}

#: KnowBe4's API regions (``https://<region>.api.knowbe4.com``).
KNOWBE4_REGIONS: tuple[str, ...] = ("us", "eu", "ca", "uk", "de")


def is_secret_setting(name: str) -> bool:
    """Settings named ``*_secret`` hold a ``sym_secret`` id in Sym's provider."""
    return name.endswith("_secret")


def build_sym_integration(
    reader: ResourceReader, type_: str, secrets: dict[str, SecretRef]
) -> SymIntegration | None:
    """The integration ``reader`` declares, read without reporting unresolved values again.

    An aptible integration's values were checked by its own builder, and any other type was
    kept (which lists what it could not resolve), so this only warns about what jitflow itself
    needs for the SDK calls: secret references and the required settings.
    """
    name = _text(reader.fields.get("name"))
    if name is None:
        return None
    integration_secrets: dict[str, SecretRef] = {}
    secret_list: list[SecretRef] = []
    settings: dict[str, str] = {}
    settings_entry = reader.fields.get("settings")
    value = settings_entry.value if settings_entry is not None else None
    items = value.items() if isinstance(value, dict) else ()
    for setting, raw in items:
        site = settings_entry.site.at(setting) if settings_entry else reader.site
        if isinstance(raw, ResourceId):
            if raw.type == "sym_secret" and raw.key in secrets:
                integration_secrets[setting] = secrets[raw.key]
            elif raw.type != "sym_secret" and is_secret_setting(setting):
                reader.warning(f"{setting} must be the id of a sym_secret, not {raw.address}", site)
            else:
                settings[setting] = raw.address
            continue
        text = _text(Entry(raw, site, setting))
        if text is None:
            continue
        if setting == SECRET_LIST_SETTING:
            secret_list.extend(_secret_list(reader, text, secrets, site))
        else:
            settings[setting] = text
    _check_required(reader, type_, settings, integration_secrets)
    return SymIntegration(
        key=reader.key,
        type=type_,
        name=name,
        label=_text(reader.fields.get("label")),
        external_id=_text(reader.fields.get("external_id")) or "",
        settings=settings,
        secrets=integration_secrets,
        secret_list=tuple(secret_list),
        location=reader.location,
    )


def _text(entry: Entry | None) -> str | None:
    """A plain value as text; None for markers (already reported) and maps or lists."""
    if entry is None:
        return None
    value = entry.value
    if value is BROKEN or isinstance(value, Unknown) or value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, ResourceId):
        return value.address
    return None


def _secret_list(
    reader: ResourceReader, text: str, secrets: dict[str, SecretRef], site: Site
) -> list[SecretRef]:
    """``jsonencode([sym_secret.a.id, ...])``: the secrets, by address (how ids evaluate)."""
    try:
        decoded = json.loads(text)
    except json.JSONDecodeError:
        decoded = None
    if not isinstance(decoded, list) or not all(isinstance(item, str) for item in decoded):
        reader.warning(
            f"{SECRET_LIST_SETTING} must be a JSON list of sym_secret ids "
            "(jsonencode([sym_secret.x.id]))",
            site,
        )
        return []
    found: list[SecretRef] = []
    for item in decoded:
        key = item.removeprefix("sym_secret.")
        if key in secrets:
            found.append(secrets[key])
        else:
            reader.warning(
                f"{SECRET_LIST_SETTING} names {item!r}, which is no sym_secret",
                site,
                nearest(item, [f"sym_secret.{k}" for k in secrets]),
            )
    return found


def _check_required(
    reader: ResourceReader,
    type_: str,
    settings: dict[str, str],
    secrets: dict[str, SecretRef],
) -> None:
    for setting in REQUIRED_SETTINGS.get(type_, ()):
        if setting not in settings and setting not in secrets:
            what = "the id of a sym_secret" if is_secret_setting(setting) else "a value"
            reader.warning(
                f"a {type_} integration needs setting {setting!r} ({what}); until it has one, "
                f"reducers' {type_} calls raise an error",
                reader.site.at(f"settings.{setting}"),
            )
    region = settings.get("region")
    if type_ == "knowbe4" and region is not None and region.lower() not in KNOWBE4_REGIONS:
        reader.warning(
            f"KnowBe4 region {region!r} is not one of {', '.join(KNOWBE4_REGIONS)}",
            reader.site.at("settings.region"),
            nearest(region.lower(), KNOWBE4_REGIONS),
        )


def environment_integrations(reader: ResourceReader, known: set[str]) -> dict[str, str]:
    """A ``sym_environment``'s ``integrations`` map: SDK name -> ``sym_integration`` key.

    ``known`` holds the keys of the integrations that were built; a reference to another
    resource type is a warning (Sym's provider would refuse it), an unresolved value is skipped
    (the environment's kept attributes list it).
    """
    entry = reader.fields.get("integrations")
    value = entry.value if entry is not None else None
    if entry is None or not isinstance(value, dict):
        return {}
    mapped: dict[str, str] = {}
    for map_key, raw in value.items():
        site = entry.site.at(map_key)
        if isinstance(raw, ResourceId) and raw.type == "sym_integration":
            if raw.key in known:
                mapped[map_key.removesuffix("_id")] = raw.key
        elif isinstance(raw, ResourceId):
            reader.warning(f"must be the id of a sym_integration, not {raw.address}", site)
        elif isinstance(raw, str) and raw.startswith("sym_integration."):
            key = raw.removeprefix("sym_integration.")
            if key in known:
                mapped[map_key.removesuffix("_id")] = key
    return mapped


def flow_integrations(config: JitflowConfig, flow: Flow) -> dict[str, SymIntegration]:
    """The integrations a flow's reducers reach, by the name the SDK uses (``"pagerduty"``).

    Each type that is configured once is offered under its type name; the flow's environment
    map then adds or overrides names (``aws_lambda`` for a ``permission_context`` integration,
    ``victorops`` for a custom one). A flow with a strategy sees that strategy's integration as
    ``aptible``. A type configured twice is only reachable through the environment map, since
    jitflow cannot guess which one a call means.
    """
    by_type: dict[str, list[SymIntegration]] = {}
    for integration in config.sym_integrations.values():
        by_type.setdefault(integration.type, []).append(integration)
    found = {type_: items[0] for type_, items in by_type.items() if len(items) == 1}
    environment = config.environments.get(flow.environment or "")
    if environment is not None:
        for name, key in environment.integrations.items():
            named = config.sym_integrations.get(key)
            if named is not None:
                found[name] = named
    strategy = config.strategies.get(flow.params.strategy or "")
    if strategy is not None and strategy.integration in config.sym_integrations:
        found["aptible"] = config.sym_integrations[strategy.integration]
    return found


def ambiguous_types(config: JitflowConfig, flow: Flow) -> set[str]:
    """Integration types configured more than once that the flow's environment does not name."""
    counts: dict[str, int] = {}
    for integration in config.sym_integrations.values():
        counts[integration.type] = counts.get(integration.type, 0) + 1
    reachable = flow_integrations(config, flow)
    return {type_ for type_, count in counts.items() if count > 1 and type_ not in reachable}


__all__ = [
    "KNOWBE4_REGIONS",
    "REQUIRED_SETTINGS",
    "SECRET_LIST_SETTING",
    "ambiguous_types",
    "build_sym_integration",
    "environment_integrations",
    "flow_integrations",
    "is_secret_setting",
]
