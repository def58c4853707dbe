"""Which ``sym_*`` resources and attributes jitflow accepts: section D of Sym's provider schema.

A name outside these tables is an error with the nearest valid name suggested, because in Sym's
provider it would be one too (``lable = ...`` is a typo, not a feature).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceSchema:
    """Attributes of one resource type. ``required`` is what jitflow insists on for every type
    value; type-specific requirements (an aptible target's ``role_id``) are the builders' job."""

    required: frozenset[str]
    optional: frozenset[str]
    blocks: frozenset[str] = frozenset()

    @property
    def attributes(self) -> frozenset[str]:
        return self.required | self.optional


def _schema(required: str, optional: str, blocks: str = "") -> ResourceSchema:
    return ResourceSchema(
        frozenset(required.split()), frozenset(optional.split()), frozenset(blocks.split())
    )


#: Every ``sym_*`` resource type jitflow knows. ``sym_flow.environment_id`` and
#: ``implementation`` are required by Sym's provider; the seed page leaves them out ("other Flow
#: attributes not shown"), so jitflow treats both as optional (a missing implementation warns).
SCHEMAS: dict[str, ResourceSchema] = {
    "sym_secrets": _schema("type name", "label settings"),
    "sym_secret": _schema("path", "source_id label settings"),  # source_id: see build.py
    "sym_integration": _schema("type name external_id", "label settings"),
    "sym_target": _schema("type", "name label settings field_bindings"),
    "sym_strategy": _schema("type name", "label integration_id targets settings implementation"),
    "sym_flow": _schema("name", "label implementation environment_id vars params", "params"),
    "sym_environment": _schema(
        "name", "label runtime_id error_logger_id log_destination_ids integrations"
    ),
    "sym_runtime": _schema("name", "label context_id"),
    "sym_error_logger": _schema("integration_id destination", ""),
    "sym_log_destination": _schema("type", "integration_id settings"),
    "sym_flows_filter": _schema("implementation", "vars integrations"),
}

#: Terraform meta-arguments every resource may carry; jitflow ignores them.
META_ARGUMENTS = frozenset({"depends_on", "provider"})
META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection"})
#: Meta-arguments that multiply a resource, which jitflow cannot model.
UNSUPPORTED_META_ARGUMENTS = frozenset({"count", "for_each"})

#: Attributes and blocks of a flow's ``params`` block (Sym provider v2+).
PARAMS_ATTRIBUTES = frozenset(
    {
        "strategy_id",
        "allow_revoke",
        "schedule_deescalation",
        "allow_guest_interaction",
        "include_decision_message",
        "additional_header_text",
        "allowed_sources",
    }
)
PARAMS_BLOCKS = frozenset({"prompt_field"})
#: Keys only the legacy v1 ``params = { ... }`` map has.
LEGACY_PARAMS_KEYS = frozenset({"prompt_fields_json", "allowed_sources_json", "template"})

PROMPT_FIELD_ATTRIBUTES = frozenset(
    {
        "name",
        "type",
        "required",
        "label",
        "default",
        "visible",
        "allowed_values",
        "prefetch",
        "on_change",
    }
)
PROMPT_FIELD_REQUIRED = frozenset({"name", "type"})
PROMPT_FIELD_TYPES = frozenset({"string", "boolean", "int", "duration", "date", "datetime", "list"})

#: ``params.allowed_sources`` values Sym documents.
ALLOWED_SOURCES = frozenset({"slack", "api"})

#: ``sym_integration`` types Sym documents; another value is kept with a warning.
INTEGRATION_TYPES = frozenset(
    {
        "aptible",
        "slack",
        "okta",
        "pagerduty",
        "github",
        "permission_context",
        "custom",
        "segment",
        "aws",
        "aws_sso",
        "aws_lambda",
        "google",
        "jira",
        "knowbe4",
        "opsgenie",
        "tailscale",
        "datadog",
        "kinesis_firehose",
        "kinesis_data_stream",
        "http",
        "onelogin",
    }
)

#: Top-level blocks that are not resources and that jitflow sets aside.
SET_ASIDE_BLOCKS = frozenset(
    {"provider", "module", "data", "terraform", "output", "moved", "import", "check", "removed"}
)
