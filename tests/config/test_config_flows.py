"""sym_flow details: implementation forms, params, prompt fields, durations, timeouts."""

from __future__ import annotations

from typing import Any

LEGACY = """
resource "sym_flow" "legacy" {
  name = "legacy"
  params = {
    strategy_id          = sym_strategy.this.id
    allow_revoke         = "false"
    prompt_fields_json   = jsonencode([
      { name = "reason", type = "string", required = true },
      { name = "duration", type = "duration", allowed_values = ["1h", "1mo"] },
    ])
    allowed_sources_json = "[\\"slack\\"]"
  }
}
"""

FULL = """
resource "sym_flow" "full" {
  name  = "full"
  label = "Full"
  vars  = { request_timeout = "never", approvers = "a@example.com", level = 3 }
  params {
    strategy_id              = sym_strategy.this.id
    allow_guest_interaction  = true
    include_decision_message = true
    additional_header_text   = "Read the *runbook* first"
    allowed_sources          = ["api"]
    prompt_field {
      name           = "duration"
      type           = "duration"
      required       = true
      default        = "2d"
      allowed_values = ["2d", "30s"]
    }
    prompt_field {
      name    = "urgent"
      type    = "boolean"
      label   = "Urgent?"
      default = false
      visible = false
    }
  }
}
"""


def test_legacy_params_map_with_prompt_fields_json(
    write_config: Any, load_ok: Any, base: str
) -> None:
    config = load_ok(write_config(base + LEGACY))
    flow = config.flows["legacy"]
    assert flow.params.strategy == "this" and flow.params.allow_revoke is False
    assert [f.name for f in flow.params.prompt_fields] == ["reason", "duration"]
    assert flow.durations == (3600, 30 * 86400)
    assert flow.params.allowed_sources == ("slack",)
    assert any("legacy v1" in w for w in config.warnings)


def test_params_block_with_every_attribute(write_config: Any, load_ok: Any, base: str) -> None:
    config = load_ok(write_config(base + FULL))
    flow = config.flows["full"]
    params = flow.params
    assert (params.allow_revoke, params.schedule_deescalation) == (True, True)
    assert (params.allow_guest_interaction, params.include_decision_message) == (True, True)
    assert params.additional_header_text == "Read the *runbook* first"
    assert params.allowed_sources == ("api",)
    urgent = params.prompt_fields[1]
    assert (urgent.type, urgent.label, urgent.default, urgent.visible, urgent.required) == (
        "boolean",
        "Urgent?",
        False,
        False,
        True,
    )
    assert flow.durations == (172800, 30)
    assert flow.request_timeout is None
    assert flow.vars == {"request_timeout": "never", "approvers": "a@example.com", "level": "3"}
    assert any("vars.level" in w and "converted" in w for w in config.warnings)
    assert any("no implementation" in w for w in config.warnings)


def test_flow_without_params_is_approval_only_with_default_durations(
    write_config: Any, load_ok: Any, base: str
) -> None:
    config = load_ok(write_config(base + 'resource "sym_flow" "a" {\n  name = "approve"\n}\n'))
    flow = config.flows["a"]
    assert flow.params.strategy is None and flow.durations == (30, 600, 3600)


def test_bad_implementation_and_flags(
    write_config: Any, load_errors: Any, base: str, flow: str
) -> None:
    text = base + flow.replace('"reducers.aptible_access"', '"not a module!"').replace(
        "strategy_id = sym_strategy.this.id",
        "strategy_id = sym_strategy.this.id\n"
        "    allow_revoke = false\n    schedule_deescalation = false",
    )
    errors = load_errors(write_config(text))
    assert len(errors) == 2
    messages = " | ".join(e.message for e in errors)
    assert "implementation must be a Python module" in messages
    assert "at least one of allow_revoke and schedule_deescalation" in messages


def test_duration_field_needs_allowed_values(
    write_config: Any, load_errors: Any, base: str, flow: str
) -> None:
    text = base + flow.replace(
        "strategy_id = sym_strategy.this.id",
        "strategy_id = sym_strategy.this.id\n"
        '    prompt_field {\n      name = "duration"\n      type = "duration"\n    }',
    )
    errors = load_errors(write_config(text))
    assert len(errors) == 1 and "needs allowed_values" in errors[0].message


def test_flow_names_are_unique_case_insensitively(
    write_config: Any, load_errors: Any, base: str, flow: str
) -> None:
    other = 'resource "sym_flow" "other" {\n  name = "APTIBLE_ACCESS"\n}\n'
    errors = load_errors(write_config(base + flow + other))
    assert len(errors) == 1 and errors[0].message.startswith("duplicate name 'APTIBLE_ACCESS'")
