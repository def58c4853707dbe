"""The resolved jitflow configuration: what the ``sym_*`` Terraform resources mean once loaded.

These models are the contract between the configuration loader and everything downstream
(activities, reducers, workflows). They hold plain data only and do no I/O, so workflow code
may import them inside Temporal's sandbox. Resources are keyed by their Terraform resource
name (``sym_target.admin_prod`` -> ``"admin_prod"``); cross references between them are those
keys, already resolved and checked by the loader.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: Sym injects these duration choices when a flow defines no ``duration`` prompt field.
DEFAULT_DURATIONS_SECONDS: tuple[int, ...] = (30, 600, 3600)

#: A pending request expires after this long unless the flow says otherwise.
DEFAULT_REQUEST_TIMEOUT_SECONDS = 24 * 3600


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceLocation(_Frozen):
    """Where a resource was declared, so that later errors can point back at the .tf file."""

    file: str
    line: int | None = None


class SecretSource(_Frozen):
    """A ``sym_secrets`` resource: a secret backend (only ``aws_secrets_manager``)."""

    key: str
    name: str
    type: Literal["aws_secrets_manager"] = "aws_secrets_manager"
    label: str | None = None
    settings: dict[str, str] = Field(default_factory=dict)
    location: SourceLocation | None = None


class SecretRef(_Frozen):
    """A ``sym_secret`` resource: where one credential lives, never the credential itself."""

    key: str
    source: str
    source_type: Literal["aws_secrets_manager"] = "aws_secrets_manager"
    path: str
    json_key: str | None = None
    label: str | None = None
    location: SourceLocation | None = None


class AptibleIntegration(_Frozen):
    """A ``sym_integration`` of type ``aptible``: an Aptible organization and the bot's secrets."""

    key: str
    name: str
    label: str | None = None
    org_id: str
    username_secret: SecretRef
    password_secret: SecretRef
    location: SourceLocation | None = None


class SymIntegration(_Frozen):
    """Any ``sym_integration`` (``aptible``, ``pagerduty``, ``okta``, ``custom``...), as reducers'
    SDK calls need it: its type, external id and settings.

    Settings that name a ``sym_secret`` (``api_token_secret = sym_secret.x.id``) are in
    ``secrets``, and a custom integration's ``secret_ids_json`` list in ``secret_list``: both hold
    where a credential lives, never the credential. Every other setting is kept as text.
    """

    key: str
    type: str
    name: str
    label: str | None = None
    external_id: str = ""
    settings: dict[str, str] = Field(default_factory=dict)
    secrets: dict[str, SecretRef] = Field(default_factory=dict)
    secret_list: tuple[SecretRef, ...] = ()
    location: SourceLocation | None = None


class AptibleRoleTarget(_Frozen):
    """A ``sym_target`` of type ``aptible_role``. ``role_id`` is stored lower case, as Aptible's URLs are."""

    key: str
    name: str
    label: str | None = None
    role_id: str
    field_bindings: tuple[str, ...] = ()
    location: SourceLocation | None = None

    @property
    def display(self) -> str:
        return self.label or self.name


class AptibleStrategy(_Frozen):
    """A ``sym_strategy`` of type ``aptible``: which integration acts on which targets."""

    key: str
    name: str
    label: str | None = None
    integration: str
    targets: tuple[str, ...]
    location: SourceLocation | None = None


class PromptField(_Frozen):
    """A ``prompt_field`` block of a flow's ``params`` (or an entry of legacy ``prompt_fields_json``)."""

    name: str
    type: str
    required: bool = True
    label: str | None = None
    default: str | int | bool | None = None
    visible: bool = True
    allowed_values: tuple[str, ...] | None = None
    prefetch: bool = False
    on_change: str | None = None
    """The Python file holding ``on_change_<name>`` (Sym's ``on_change = file("x.py")``), as an
    absolute path; None looks the handler up in the flow's implementation."""


class FlowParams(_Frozen):
    """A flow's ``params`` block, with Sym's defaults."""

    strategy: str | None = None
    allow_revoke: bool = True
    schedule_deescalation: bool = True
    allow_guest_interaction: bool = False
    include_decision_message: bool = False
    additional_header_text: str | None = None
    allowed_sources: tuple[str, ...] | None = None
    prompt_fields: tuple[PromptField, ...] = ()


class Implementation(_Frozen):
    """Where a flow's reducers and hooks live: a module of ``reducers`` or a Python file."""

    kind: Literal["module", "file"]
    module: str | None = None
    path: str | None = None

    @property
    def display(self) -> str:
        return str(self.module) if self.kind == "module" else str(self.path)


class Flow(_Frozen):
    """A ``sym_flow`` resource.

    ``durations`` are the allowed grant lengths in seconds (from the ``duration`` prompt field, or
    Sym's defaults). ``request_timeout`` is how long a request may wait for a decision; ``None``
    means never, which a flow only gets by setting ``vars.request_timeout = "never"``.
    """

    key: str
    name: str
    label: str | None = None
    implementation: Implementation | None = None
    environment: str | None = None
    vars: dict[str, str] = Field(default_factory=dict)
    params: FlowParams = Field(default_factory=FlowParams)
    durations: tuple[int, ...] = DEFAULT_DURATIONS_SECONDS
    request_timeout: int | None = DEFAULT_REQUEST_TIMEOUT_SECONDS
    location: SourceLocation | None = None


class Environment(_Frozen):
    """A ``sym_environment``. ``integrations`` is its ``integrations`` map as Sym's SDK reads it:
    the key without ``_id`` (``pagerduty_id`` -> ``pagerduty``) -> the ``sym_integration`` key."""

    key: str
    name: str
    label: str | None = None
    attributes: dict[str, object] = Field(default_factory=dict)
    integrations: dict[str, str] = Field(default_factory=dict)


class KeptResource(_Frozen):
    """A resource jitflow parses and keeps without acting on it (``sym_runtime``, ``sym_error_logger``)."""

    type: str
    key: str
    attributes: dict[str, object] = Field(default_factory=dict)


class Unresolved(_Frozen):
    """A reference jitflow could not resolve where it did not need the value (a module output...)."""

    address: str
    attribute: str
    expression: str
    location: SourceLocation | None = None
    reason: str = ""


class SetAside(_Frozen):
    """A block jitflow read and ignored on purpose (another provider's resource, ``module``...)."""

    address: str
    location: SourceLocation | None = None
    note: str = ""


class JitflowConfig(_Frozen):
    """Everything one load of a configuration folder produced."""

    flows: dict[str, Flow] = Field(default_factory=dict)
    strategies: dict[str, AptibleStrategy] = Field(default_factory=dict)
    targets: dict[str, AptibleRoleTarget] = Field(default_factory=dict)
    integrations: dict[str, AptibleIntegration] = Field(default_factory=dict)
    #: Every ``sym_integration`` of any type (aptible ones too), for the SDK's integration calls.
    sym_integrations: dict[str, SymIntegration] = Field(default_factory=dict)
    secrets: dict[str, SecretRef] = Field(default_factory=dict)
    secret_sources: dict[str, SecretSource] = Field(default_factory=dict)
    environments: dict[str, Environment] = Field(default_factory=dict)
    kept: tuple[KeptResource, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()
    set_aside: tuple[SetAside, ...] = ()
    warnings: tuple[str, ...] = ()
    #: The ``.tf`` files this configuration was loaded from, as they were named to the loader.
    files: tuple[str, ...] = ()

    def flow_by_name(self, name: str) -> Flow | None:
        """Find a flow by its ``name`` attribute (case-insensitive, as Sym slugs are) or resource key."""
        wanted = name.strip().lower()
        for flow in self.flows.values():
            if flow.name.lower() == wanted or flow.key.lower() == wanted:
                return flow
        return None
