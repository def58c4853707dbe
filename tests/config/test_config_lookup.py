"""find_target: how a request names the role it wants."""

from __future__ import annotations

from typing import Any

import pytest

from jitflow.config.lookup import find_target

SECOND_FLOW = """
resource "sym_target" "other" {
  type     = "aptible_role"
  name     = "other-role"
  settings = { role_id = "c7d5f21a-1d4e-4b39-9957-f8acabde2a3a" }
}
resource "sym_strategy" "other" {
  type           = "aptible"
  name           = "other-strategy"
  integration_id = sym_integration.aptible.id
  targets        = [sym_target.other.id]
}
resource "sym_flow" "other" {
  name   = "other_access"
  params { strategy_id = sym_strategy.other.id }
}
resource "sym_flow" "approval" {
  name   = "approval_only"
}
"""


@pytest.fixture
def config(write_config: Any, load_ok: Any, base: str, flow: str) -> Any:
    return load_ok(write_config(base + flow + SECOND_FLOW))


@pytest.mark.parametrize(
    "text",
    [
        "admin_prod",
        "ADMIN-PROD",
        "admin prod",
        " Admin Prod ",
        "24463ef7-1d6e-402e-a365-69cb6db80c6e",
        "24463EF7-1D6E-402E-A365-69CB6DB80C6E",
    ],
)
def test_matches_key_name_label_or_role_id(config: Any, text: str) -> None:
    target = find_target(config, config.flows["this"], text)
    assert target is not None and target.key == "admin_prod"


def test_only_targets_of_the_flows_strategy_match(config: Any) -> None:
    assert find_target(config, config.flows["this"], "other-role") is None
    assert find_target(config, config.flows["other"], "other-role") is not None
    assert find_target(config, config.flows["approval"], "admin_prod") is None
    assert find_target(config, config.flows["this"], "") is None
