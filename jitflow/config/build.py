"""Turning evaluated ``sym_*`` resources into the models of ``models.py``, checking them on the way.

Resources are built in dependency order (secret sources, secrets, integrations, targets,
strategies, environments, flows) so each builder can look up what it refers to among those
already built. A resource that failed is absent from ``built``; whatever refers to it fails
silently, since its own error was already reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from jitflow.config.durations import parse_duration
from jitflow.config.evaluate import BROKEN, FileRef, Unknown
from jitflow.config.fields import BuildState, Entry, Fields, ResourceReader, is_uuid
from jitflow.config.hcl import RawBlock
from jitflow.config.integrations import build_sym_integration, environment_integrations
from jitflow.config.issues import Site, nearest
from jitflow.config.models import (
    DEFAULT_DURATIONS_SECONDS,
    DEFAULT_REQUEST_TIMEOUT_SECONDS,
    AptibleIntegration,
    AptibleRoleTarget,
    AptibleStrategy,
    Environment,
    Flow,
    FlowParams,
    Implementation,
    KeptResource,
    PromptField,
    SecretRef,
    SecretSource,
    SymIntegration,
)
from jitflow.config.schema import (
    ALLOWED_SOURCES,
    INTEGRATION_TYPES,
    LEGACY_PARAMS_KEYS,
    META_ARGUMENTS,
    META_BLOCKS,
    PARAMS_ATTRIBUTES,
    PARAMS_BLOCKS,
    PROMPT_FIELD_ATTRIBUTES,
    PROMPT_FIELD_REQUIRED,
    PROMPT_FIELD_TYPES,
    SCHEMAS,
    UNSUPPORTED_META_ARGUMENTS,
)
from jitflow.config.slack import SLACK, check_slack_integration

_MODULE_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


@dataclass
class Built:
    """Models built so far, by resource key, plus resources kept as they are."""

    secret_sources: dict[str, SecretSource] = field(default_factory=dict)
    secrets: dict[str, SecretRef] = field(default_factory=dict)
    integrations: dict[str, AptibleIntegration] = field(default_factory=dict)
    sym_integrations: dict[str, SymIntegration] = field(default_factory=dict)
    targets: dict[str, AptibleRoleTarget] = field(default_factory=dict)
    strategies: dict[str, AptibleStrategy] = field(default_factory=dict)
    environments: dict[str, Environment] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)
    kept: list[KeptResource] = field(default_factory=list)
    #: ``type`` attribute of every kept resource, to explain why a reference to it is wrong.
    kept_types: dict[tuple[str, str], str] = field(default_factory=dict)


class ResourceBuilder:
    """Builds every ``sym_*`` resource of a load into ``built``."""

    def __init__(self, state: BuildState) -> None:
        self.state = state
        self.built = Built()

    def build_all(self, blocks: list[RawBlock]) -> Built:
        readers = [ResourceReader(self.state, block) for block in blocks]
        for reader in readers:
            self._check_schema(reader)
        order = [
            ("sym_secrets", self._secret_source),
            ("sym_secret", self._secret),
            ("sym_integration", self._integration),
            ("sym_target", self._target),
            ("sym_strategy", self._strategy),
            ("sym_environment", self._environment),
            ("sym_flow", self._flow),
        ]
        handled = {type_ for type_, _ in order}
        for type_, build in order:
            for reader in readers:
                if reader.type == type_:
                    build(reader)
        for reader in readers:
            if reader.type not in handled:
                self._keep(reader)
        return self.built

    # -- shared checks -------------------------------------------------------------------------

    def _check_schema(self, reader: ResourceReader) -> None:
        schema = SCHEMAS[reader.type]
        reader.check_names(
            reader.fields,
            schema.attributes,
            reader.address,
            META_ARGUMENTS | UNSUPPORTED_META_ARGUMENTS,
        )
        for name in sorted(UNSUPPORTED_META_ARGUMENTS & set(reader.fields.entries)):
            reader.error(
                f"jitflow does not support {name} on sym_* resources: declare one resource each",
                reader.fields.entries[name].site,
            )
        reader.require(reader.fields, schema.required)
        for block in reader.block.body.blocks:
            if block.type not in schema.blocks and block.type not in META_BLOCKS:
                reader.error(
                    f"{reader.address} has no block {block.type!r}",
                    Site(block.file, block.line, reader.address, block.type),
                    nearest(block.type, sorted(schema.blocks | schema.attributes)),
                )
        for duplicate in reader.block.body.duplicates:
            reader.error(
                "attribute written twice in the same block",
                reader.site.at(duplicate.name, duplicate.line),
            )

    def _keep(self, reader: ResourceReader, type_value: str | None = None) -> None:
        attributes = {
            name: reader.soft_plain(entry) for name, entry in reader.fields.entries.items()
        }
        self.built.kept.append(
            KeptResource(type=reader.type, key=reader.key, attributes=attributes)
        )
        self.built.kept_types[(reader.type, reader.key)] = type_value or ""

    def _type(self, reader: ResourceReader) -> str | None:
        return reader.need_text(reader.fields, "type")

    def _settings(self, reader: ResourceReader) -> Fields:
        entry = reader.fields.get("settings")
        settings = reader.map_fields(entry) if entry else None
        return settings or Fields(reader.site.at("settings"))

    def _warn_unused_settings(
        self, reader: ResourceReader, settings: Fields, used: set[str]
    ) -> None:
        for name, entry in settings.entries.items():
            if name not in used:
                reader.warning(
                    f"setting {name!r} is not used by jitflow for a {reader.type} "
                    f"(it reads {', '.join(sorted(used)) or 'none'})",
                    entry.site,
                    nearest(name, sorted(used)),
                )

    def _wrong_reference(
        self, reader: ResourceReader, entry: Entry, type_: str, key: str, wanted: str
    ) -> None:
        """``key`` names a ``type_`` resource that is not among the built ones: explain why."""
        kept_type = self.built.kept_types.get((type_, key))
        if kept_type is not None:
            reader.error(
                f"{type_}.{key} has type {kept_type!r}; jitflow needs {wanted} here", entry.site
            )
        else:
            reader.failed = True  # the referenced resource failed; its error is already reported

    # -- sym_secrets and sym_secret -------------------------------------------------------------

    def _secret_source(self, reader: ResourceReader) -> None:
        type_ = self._type(reader)
        name = reader.need_text(reader.fields, "name")
        label = reader.need_text(reader.fields, "label")
        if type_ is not None and type_ != "aws_secrets_manager":
            reader.error(
                f"unsupported secrets type {type_!r}: jitflow reads aws_secrets_manager",
                reader.fields.entries["type"].site,
                nearest(type_, ["aws_secrets_manager"], cutoff=0.5),
            )
        settings: dict[str, str] = {}
        for key, entry in self._settings(reader).entries.items():
            if isinstance(entry.value, Unknown):
                reader.unresolved(entry, entry.value)
                continue
            text = reader.entry_text(entry)
            if text is not None:
                settings[key] = text
        if reader.failed or name is None:
            return
        self.built.secret_sources[reader.key] = SecretSource(
            key=reader.key, name=name, label=label, settings=settings, location=reader.location
        )

    def _secret(self, reader: ResourceReader) -> None:
        source_entry = reader.fields.get("source_id")
        source = None
        if source_entry is None:
            reader.error(
                "a secret needs a source: missing required attribute 'source_id' "
                "(set source_id = sym_secrets.<name>.id)",
                reader.fields.site.at("source_id"),
            )
        else:
            source = reader.reference(source_entry, "sym_secrets")
            if source is not None and source not in self.built.secret_sources:
                reader.failed = True
        path = reader.need_text(reader.fields, "path")
        label = reader.need_text(reader.fields, "label")
        settings = self._settings(reader)
        json_key_entry = settings.get("json_key")
        json_key = reader.entry_text(json_key_entry) if json_key_entry else None
        self._warn_unused_settings(reader, settings, {"json_key"})
        if path is not None and not path.strip():
            reader.error("path must not be empty", reader.fields.entries["path"].site)
        if reader.failed or source is None or path is None:
            return
        self.built.secrets[reader.key] = SecretRef(
            key=reader.key,
            source=source,
            source_type=self.built.secret_sources[source].type,
            path=path,
            json_key=json_key,
            label=label,
            location=reader.location,
        )

    # -- sym_integration ------------------------------------------------------------------------

    def _integration(self, reader: ResourceReader) -> None:
        type_ = self._type(reader)
        if type_ is not None and type_ not in INTEGRATION_TYPES:
            reader.warning(
                f"unknown integration type {type_!r}: kept and offered to reducers as it is",
                reader.fields.entries["type"].site,
                nearest(type_, sorted(INTEGRATION_TYPES)),
            )
        if type_ != "aptible":
            if not reader.failed:
                self._keep(reader, type_)
                self._sdk_integration(reader, type_)
            return
        name = reader.need_text(reader.fields, "name")
        label = reader.need_text(reader.fields, "label")
        org_id = reader.need_text(reader.fields, "external_id")
        if org_id is not None:
            org_id = self._uuid(reader, org_id, "external_id", "Aptible organization id")
        settings = self._settings(reader)
        secrets = {}
        for setting in ("username_secret", "password_secret"):
            entry = settings.get(setting)
            if entry is None:
                reader.error(
                    f"missing required setting {setting!r} (the id of a sym_secret holding the "
                    f"Aptible bot's {setting.split('_')[0]})",
                    settings.site.at(setting),
                )
                continue
            key = reader.reference(entry, "sym_secret")
            if key is not None and key not in self.built.secrets:
                reader.failed = True
            elif key is not None:
                secrets[setting] = self.built.secrets[key]
        self._warn_unused_settings(reader, settings, {"username_secret", "password_secret"})
        if reader.failed or name is None or org_id is None or len(secrets) != 2:
            return
        self.built.integrations[reader.key] = AptibleIntegration(
            key=reader.key,
            name=name,
            label=label,
            org_id=org_id,
            username_secret=secrets["username_secret"],
            password_secret=secrets["password_secret"],
            location=reader.location,
        )
        self._sdk_integration(reader, "aptible")

    def _sdk_integration(self, reader: ResourceReader, type_: str | None) -> None:
        """Also keep the integration in the form reducers' SDK calls read (every type)."""
        if type_ is None:
            return
        integration = build_sym_integration(reader, type_, self.built.secrets)
        if integration is not None and type_ == SLACK:
            check_slack_integration(
                reader, integration.external_id, integration.settings, integration.secrets
            )
        if integration is not None:
            self.built.sym_integrations[reader.key] = integration

    def _uuid(self, reader: ResourceReader, text: str, attribute: str, what: str) -> str:
        """Aptible ids are UUIDs, stored lower case as Aptible's URLs write them; warn otherwise."""
        if is_uuid(text):
            return text.lower()
        reader.warning(
            f"{what} {text!r} is not a UUID (Aptible ids are); "
            "check it in the Aptible dashboard URL",
            self._site_of(reader, attribute),
        )
        return text

    @staticmethod
    def _site_of(reader: ResourceReader, attribute: str) -> Site:
        entry = reader.fields.get(attribute.split(".")[0])
        site = entry.site if entry else reader.site
        return Site(site.file, site.line, reader.address, attribute)

    # -- sym_target -----------------------------------------------------------------------------

    def _target(self, reader: ResourceReader) -> None:
        type_ = self._type(reader)
        if type_ != "aptible_role":
            if not reader.failed:
                self._keep(reader, type_)
            return
        name = reader.need_text(reader.fields, "name")
        label = reader.need_text(reader.fields, "label")
        if name is None and "name" not in reader.fields.entries:
            name = reader.key
            reader.warning(
                f"no name: jitflow names this target after its resource, {reader.key!r}"
                + ("" if label else " (it has no label either)"),
                reader.site,
            )
        settings = self._settings(reader)
        role_entry = settings.get("role_id")
        role_id = None
        if role_entry is None:
            reader.error(
                "missing required setting 'role_id' "
                "(the Aptible role's UUID, from its dashboard URL)",
                settings.site.at("role_id"),
            )
        else:
            role_id = reader.entry_text(role_entry)
            if role_id is not None:
                role_id = self._uuid(reader, role_id, "settings.role_id", "role_id")
        self._warn_unused_settings(reader, settings, {"role_id"})
        bindings_entry = reader.fields.get("field_bindings")
        bindings = reader.need_text_list(bindings_entry) if bindings_entry else []
        if reader.failed or name is None or role_id is None or bindings is None:
            return
        self.built.targets[reader.key] = AptibleRoleTarget(
            key=reader.key,
            name=name,
            label=label,
            role_id=role_id,
            field_bindings=tuple(bindings),
            location=reader.location,
        )

    # -- sym_strategy ---------------------------------------------------------------------------

    def _strategy(self, reader: ResourceReader) -> None:
        type_ = self._type(reader)
        if type_ != "aptible":
            if not reader.failed:
                self._keep(reader, type_)
            return
        name = reader.need_text(reader.fields, "name")
        label = reader.need_text(reader.fields, "label")
        integration = self._strategy_integration(reader)
        targets = self._strategy_targets(reader)
        if "settings" in reader.fields.entries:
            reader.warning(
                "an aptible strategy has no settings; ignored",
                reader.fields.entries["settings"].site,
            )
        if "implementation" in reader.fields.entries:
            reader.warning(
                "implementation is only for custom strategies; ignored",
                reader.fields.entries["implementation"].site,
            )
        if reader.failed or name is None or integration is None or targets is None:
            return
        self.built.strategies[reader.key] = AptibleStrategy(
            key=reader.key,
            name=name,
            label=label,
            integration=integration,
            targets=tuple(targets),
            location=reader.location,
        )

    def _strategy_integration(self, reader: ResourceReader) -> str | None:
        entry = reader.fields.get("integration_id")
        if entry is None:
            reader.error(
                "missing required attribute 'integration_id' (the aptible sym_integration)",
                reader.site.at("integration_id"),
            )
            return None
        key = reader.reference(entry, "sym_integration")
        if key is None:
            return None
        if key not in self.built.integrations:
            self._wrong_reference(reader, entry, "sym_integration", key, "an aptible integration")
            return None
        return key

    def _strategy_targets(self, reader: ResourceReader) -> list[str] | None:
        entry = reader.fields.get("targets")
        if entry is None:
            reader.error(
                "missing required attribute 'targets' (the sym_target ids users may pick)",
                reader.site.at("targets"),
            )
            return None
        value = entry.value
        if value is BROKEN or isinstance(value, Unknown) or not isinstance(value, list):
            reader.reference(entry, "sym_target")  # reports what is wrong with it
            return None
        keys: list[str] = []
        for index, item in enumerate(value):
            item_entry = Entry(item, entry.site, f"{entry.expression}[{index}]")
            key = reader.reference(item_entry, "sym_target")
            if key is None:
                continue
            if key not in self.built.targets:
                kept_type = self.built.kept_types.get(("sym_target", key))
                if kept_type is not None:
                    reader.error(
                        f"sym_target.{key} has type {kept_type!r}: an aptible strategy only takes "
                        "targets of type aptible_role",
                        entry.site,
                    )
                else:
                    reader.failed = True
                continue
            if key in keys:
                reader.warning(f"sym_target.{key} is listed twice", entry.site)
                continue
            keys.append(key)
        if not value:
            reader.error("an aptible strategy needs at least one target", entry.site)
        return None if reader.failed else keys

    # -- sym_environment ------------------------------------------------------------------------

    def _environment(self, reader: ResourceReader) -> None:
        name = reader.need_text(reader.fields, "name")
        label = reader.need_text(reader.fields, "label")
        attributes = {
            key: reader.soft_plain(entry)
            for key, entry in reader.fields.entries.items()
            if key not in ("name", "label")
        }
        integrations = environment_integrations(reader, set(self.built.sym_integrations))
        if reader.failed or name is None:
            return
        self.built.environments[reader.key] = Environment(
            key=reader.key,
            name=name,
            label=label,
            attributes=attributes,
            integrations=integrations,
        )

    # -- sym_flow -------------------------------------------------------------------------------

    def _flow(self, reader: ResourceReader) -> None:
        name = reader.need_text(reader.fields, "name")
        label = reader.need_text(reader.fields, "label")
        implementation = self._implementation(reader)
        environment = self._flow_environment(reader)
        variables = self._flow_vars(reader)
        request_timeout = self._request_timeout(reader, variables)
        params, durations = self._params(reader)
        if reader.failed or name is None or params is None or durations is None:
            return
        self.built.flows[reader.key] = Flow(
            key=reader.key,
            name=name,
            label=label,
            implementation=implementation,
            environment=environment,
            vars=variables,
            params=params,
            durations=durations,
            request_timeout=request_timeout,
            location=reader.location,
        )

    def _implementation(self, reader: ResourceReader) -> Implementation | None:
        entry = reader.fields.get("implementation")
        if entry is None:
            reader.warning(
                "no implementation: jitflow's default handlers apply "
                "(users with the admin role approve)",
                reader.site.at("implementation"),
            )
            return None
        if isinstance(entry.value, FileRef):
            return self._implementation_file(reader, entry, entry.value.path)
        text = reader.entry_text(entry)
        if text is None:
            return None
        text = text.strip()
        if text.endswith(".py") or "/" in text or "\\" in text:
            base = Path(entry.site.file or ".").parent
            return self._implementation_file(reader, entry, (base / text).resolve())
        parts = text.split(".")
        if text and set(text) <= _MODULE_NAME_CHARS and all(p.isidentifier() for p in parts):
            return Implementation(kind="module", module=text)
        shown = text if len(text) <= 60 else text[:57] + "..."
        reader.error(
            f'implementation must be a Python module ("reducers.aptible_access") or a file '
            f'(file("impl.py"), "${{path.module}}/impl.py"), got {shown!r}',
            entry.site,
        )
        return None

    def _implementation_file(
        self, reader: ResourceReader, entry: Entry, path: Path
    ) -> Implementation | None:
        if not path.is_file():
            reader.error(f"implementation file {path} does not exist", entry.site)
            return None
        return Implementation(kind="file", path=str(path))

    def _flow_environment(self, reader: ResourceReader) -> str | None:
        entry = reader.fields.get("environment_id")
        if entry is None:
            return None
        if isinstance(entry.value, Unknown):
            reader.unresolved(entry, entry.value)
            return None
        key = reader.reference(entry, "sym_environment")
        if key is not None and key not in self.built.environments:
            reader.failed = True
            return None
        return key

    def _flow_vars(self, reader: ResourceReader) -> dict[str, str]:
        entry = reader.fields.get("vars")
        fields = reader.map_fields(entry) if entry else None
        variables: dict[str, str] = {}
        for key, item in (fields.entries if fields else {}).items():
            if isinstance(item.value, Unknown) and key != "request_timeout":
                reader.unresolved(item, item.value)
                continue
            if isinstance(item.value, bool | int | float) and not isinstance(item.value, str):
                reader.warning("vars are strings: this value is converted to one", item.site)
            text = reader.entry_text(item)
            if text is not None:
                variables[key] = text
        return variables

    def _request_timeout(self, reader: ResourceReader, variables: dict[str, str]) -> int | None:
        text = variables.get("request_timeout")
        if text is None:
            return DEFAULT_REQUEST_TIMEOUT_SECONDS
        if text.strip().lower() == "never":
            return None
        site = reader.site.at("vars.request_timeout", reader.fields.entries["vars"].site.line)
        try:
            return parse_duration(text)
        except ValueError as error:
            reader.error(f'{error}, or "never"', site)
            return DEFAULT_REQUEST_TIMEOUT_SECONDS

    # -- params and prompt fields ---------------------------------------------------------------

    def _params(self, reader: ResourceReader) -> tuple[FlowParams | None, tuple[int, ...] | None]:
        blocks = reader.block.body.blocks_named("params")
        legacy = reader.fields.get("params")
        if len(blocks) > 1:
            second = blocks[1]
            reader.error(
                "a flow has at most one params block",
                Site(second.file, second.line, reader.address, "params"),
            )
        if blocks and legacy is not None:
            reader.error("params is given both as a block and as a map", legacy.site)
        if blocks:
            block = blocks[0]
            site = Site(block.file, block.line, reader.address, "params")
            fields = reader.body_fields(block.body, site)
            reader.check_names(fields, PARAMS_ATTRIBUTES, "params")
            for inner in block.body.blocks:
                if inner.type not in PARAMS_BLOCKS:
                    reader.error(
                        f"params has no block {inner.type!r}",
                        Site(inner.file, inner.line, reader.address, f"params.{inner.type}"),
                        nearest(inner.type, sorted(PARAMS_BLOCKS | PARAMS_ATTRIBUTES)),
                    )
            prompt_fields = [
                self._prompt_field_block(reader, inner)
                for inner in block.body.blocks_named("prompt_field")
            ]
        elif legacy is not None:
            mapped = reader.map_fields(legacy)
            if mapped is None:
                return None, None
            fields = mapped
            reader.warning(
                "params as a map is Sym's legacy v1 syntax; jitflow reads it, but a params block "
                "with prompt_field blocks is the current form",
                legacy.site,
            )
            reader.check_names(fields, PARAMS_ATTRIBUTES | LEGACY_PARAMS_KEYS, "params")
            prompt_fields = self._legacy_prompt_fields(reader, fields)
        else:
            fields = Fields(reader.site.at("params"))
            prompt_fields = []
        return self._params_model(reader, fields, [f for f in prompt_fields if f is not None])

    def _params_model(
        self, reader: ResourceReader, fields: Fields, prompt_fields: list[PromptField]
    ) -> tuple[FlowParams | None, tuple[int, ...] | None]:
        strategy = None
        strategy_entry = fields.get("strategy_id")
        if strategy_entry is not None:
            strategy = reader.reference(strategy_entry, "sym_strategy")
            if strategy is not None and strategy not in self.built.strategies:
                self._wrong_reference(
                    reader, strategy_entry, "sym_strategy", strategy, "an aptible strategy"
                )
        allow_revoke = reader.need_bool(fields, "allow_revoke", True)
        schedule_deescalation = reader.need_bool(fields, "schedule_deescalation", True)
        if not allow_revoke and not schedule_deescalation:
            reader.error(
                "at least one of allow_revoke and schedule_deescalation must be true, or access "
                "would never end",
                fields.site,
            )
        allowed_sources = self._allowed_sources(reader, fields)
        seen: set[str] = set()
        for prompt_field in prompt_fields:
            if prompt_field.name in seen:
                reader.error(f"duplicate prompt field name {prompt_field.name!r}", fields.site)
            seen.add(prompt_field.name)
        durations = self._durations(reader, fields, prompt_fields, strategy_entry is not None)
        if reader.failed:
            return None, None
        params = FlowParams(
            strategy=strategy,
            allow_revoke=allow_revoke,
            schedule_deescalation=schedule_deescalation,
            allow_guest_interaction=reader.need_bool(fields, "allow_guest_interaction", False),
            include_decision_message=reader.need_bool(fields, "include_decision_message", False),
            additional_header_text=reader.need_text(fields, "additional_header_text"),
            allowed_sources=allowed_sources,
            prompt_fields=tuple(prompt_fields),
        )
        return (None, None) if reader.failed else (params, durations)

    def _allowed_sources(self, reader: ResourceReader, fields: Fields) -> tuple[str, ...] | None:
        entry = fields.get("allowed_sources")
        sources: list[str] | None = None
        if entry is not None:
            sources = reader.need_text_list(entry)
        legacy = fields.get("allowed_sources_json")
        if legacy is not None and sources is None:
            decoded = self._json(reader, legacy)
            if isinstance(decoded, list) and all(isinstance(item, str) for item in decoded):
                sources = decoded
            elif decoded is not None:
                reader.error("allowed_sources_json must be a JSON list of strings", legacy.site)
        for source in sources or []:
            if source not in ALLOWED_SOURCES:
                reader.warning(
                    f"unknown request source {source!r} "
                    f"(Sym knows {', '.join(sorted(ALLOWED_SOURCES))})",
                    (entry or legacy or Entry(None, fields.site, "")).site,
                    nearest(source, sorted(ALLOWED_SOURCES)),
                )
        return None if sources is None else tuple(sources)

    def _json(self, reader: ResourceReader, entry: Entry) -> object:
        text = reader.entry_text(entry)
        if text is None:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            reader.error(f"not valid JSON: {error.msg} (line {error.lineno})", entry.site)
            return None

    def _prompt_field_block(self, reader: ResourceReader, block: RawBlock) -> PromptField | None:
        site = Site(block.file, block.line, reader.address, "params.prompt_field")
        fields = reader.body_fields(block.body, site)
        reader.check_names(fields, PROMPT_FIELD_ATTRIBUTES, "prompt_field")
        return self._prompt_field(reader, fields)

    def _legacy_prompt_fields(
        self, reader: ResourceReader, fields: Fields
    ) -> list[PromptField | None]:
        entry = fields.get("prompt_fields_json")
        if entry is None:
            return []
        decoded = self._json(reader, entry)
        if decoded is None:
            return []
        if not isinstance(decoded, list) or not all(isinstance(item, dict) for item in decoded):
            reader.error("prompt_fields_json must be a JSON list of objects", entry.site)
            return []
        result: list[PromptField | None] = []
        for index, item in enumerate(decoded):
            site = entry.site.at(f"[{index}]")
            item_fields = Fields(site)
            for key, value in item.items():
                item_fields.entries[key] = Entry(
                    value, site.at(key), f"{entry.expression}[{index}]"
                )
            reader.check_names(item_fields, PROMPT_FIELD_ATTRIBUTES, "prompt field")
            result.append(self._prompt_field(reader, item_fields))
        return result

    def _prompt_field(self, reader: ResourceReader, fields: Fields) -> PromptField | None:
        reader.require(fields, PROMPT_FIELD_REQUIRED)
        name = reader.need_text(fields, "name")
        type_ = reader.need_text(fields, "type")
        if type_ is not None and type_ not in PROMPT_FIELD_TYPES:
            reader.error(
                f"unknown prompt field type {type_!r}",
                fields.entries["type"].site,
                nearest(type_, sorted(PROMPT_FIELD_TYPES)),
            )
        allowed_entry = fields.get("allowed_values")
        allowed = reader.need_text_list(allowed_entry) if allowed_entry else None
        default_entry = fields.get("default")
        default: str | int | bool | None = None
        if default_entry is not None:
            value = default_entry.value
            if isinstance(value, str | int | bool) or value is None:
                default = value
            else:
                default = reader.entry_text(default_entry)
        on_change = self._on_change_file(reader, fields.get("on_change"))
        if on_change is not None and name in ("duration", "target", "target_id"):
            reader.warning(
                f"on_change on the {name} field is not run: the request form shows {name} "
                "as its own select",
                fields.entries["on_change"].site,
            )
        if name is None or type_ is None:
            return None
        return PromptField(
            name=name,
            type=type_,
            required=reader.need_bool(fields, "required", True),
            label=reader.need_text(fields, "label"),
            default=default,
            visible=reader.need_bool(fields, "visible", True),
            allowed_values=None if allowed is None else tuple(allowed),
            prefetch=reader.need_bool(fields, "prefetch", False),
            on_change=on_change,
        )

    def _on_change_file(self, reader: ResourceReader, entry: Entry | None) -> str | None:
        """The file of a prompt field's ``on_change`` handler, checked to exist.

        Sym reads ``on_change = file("on_change.py")`` as the file's contents; jitflow loads that
        file as it loads an implementation, so that its handler is checked like every other one
        and reloaded when it changes. Inline code (a heredoc) has no file to load.
        """
        if entry is None:
            return None
        base = Path(entry.site.file or ".").parent
        if isinstance(entry.value, FileRef):
            path = entry.value.path
        else:
            text = reader.entry_text(entry)
            if text is None:
                return None
            text = text.strip()
            if "\n" in text or "def " in text:
                reader.error(
                    "on_change holds Python code; jitflow loads it from a file: put it in one "
                    'and write on_change = file("on_change.py")',
                    entry.site,
                )
                return None
            path = Path(text)
        path = (path if path.is_absolute() else base / path).resolve()
        if not path.is_file():
            reader.error(f"on_change file {path} does not exist", entry.site)
            return None
        return str(path)

    def _durations(
        self,
        reader: ResourceReader,
        fields: Fields,
        prompt_fields: list[PromptField],
        has_strategy: bool,
    ) -> tuple[int, ...]:
        """Seconds of the ``duration`` field's choices; Sym's defaults when there is none."""
        field_ = next((f for f in prompt_fields if f.name == "duration"), None)
        if field_ is None:
            return DEFAULT_DURATIONS_SECONDS
        site = fields.site.at("prompt_field.duration")
        if not has_strategy:
            reader.warning(
                "an approval-only flow (no strategy_id) should not ask for a duration", site
            )
        if field_.type != "duration":
            reader.error(f'the duration field must have type "duration", not {field_.type!r}', site)
            return DEFAULT_DURATIONS_SECONDS
        if not field_.required:
            reader.warning("the duration field should be required = true", site)
        if not field_.allowed_values:
            reader.error(
                'the duration field needs allowed_values (for example ["30s", "1h"])', site
            )
            return DEFAULT_DURATIONS_SECONDS
        seconds: list[int] = []
        for text in field_.allowed_values:
            try:
                value = parse_duration(text)
            except ValueError as error:
                reader.error(str(error), site.at("allowed_values"))
                continue
            if value not in seconds:
                seconds.append(value)
        if isinstance(field_.default, str) and field_.default not in field_.allowed_values:
            reader.warning(f"default {field_.default!r} is not one of allowed_values", site)
        return tuple(seconds)
