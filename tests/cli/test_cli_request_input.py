"""What ``jitflow request`` asks for and sends, without a server (issues 18 and 19).

``--help`` lists the flows' targets and durations from the configuration at hand; a missing
required field is named as the option to add; ``--context`` reaches the resolved request (for
``event.get_context("request")``) and old histories without it still decode.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from activities.access import RequestRefused, resolve_request
from jitflow.cli.access import parse_context
from jitflow.cli.main import main
from jitflow.cli.outcome import Command, ExitCode, exit_code
from jitflow.config.loader import load_config
from jitflow.contracts.access import AccessRequestInput, ResolvedRequest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "aptible"


def _help(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(main, ["request", *args, "--help"], env=env or {})
    assert result.exit_code == 0, result.output
    return result.output


def test_request_help_lists_targets_durations_and_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = _help("--config", str(EXAMPLE))
    assert f"Flows in {EXAMPLE}" in shown
    assert "aptible_access (Aptible Access)" in shown
    assert "admin_prod (Admin Role), admin_ro (Admin Read-Only Role)" in shown
    assert "30s, 10m, 1h, 8h, 1d" in shown
    assert "required    --reason TEXT" in shown

    # JITFLOW_CONFIG, as the worker reads it: a flow with other durations and another field.
    config = tmp_path / "config"
    shutil.copytree(EXAMPLE, config)
    flow_file = config / "flow.tf"
    text = flow_file.read_text(encoding="utf-8")
    text = text.replace('["30s", "10m", "1h", "8h", "1d"]', '["15m", "2h"]').replace(
        '    prompt_field {\n      name     = "reason"',
        '    prompt_field {\n      name     = "ticket"\n      type     = "string"\n'
        '      required = true\n    }\n\n    prompt_field {\n      name     = "reason"',
    )
    flow_file.write_text(text, encoding="utf-8")
    from_env = _help(env={"JITFLOW_CONFIG": str(config)})
    assert "15m, 2h" in from_env
    assert "--field ticket=VALUE" in from_env

    # The default, examples/aptible, when run from the repo folder; nothing to list elsewhere.
    monkeypatch.chdir(REPO)
    assert "admin_prod (Admin Role)" in _help()
    monkeypatch.chdir(tmp_path)
    assert "Pass --config DIR or set JITFLOW_CONFIG" in _help()

    # A configuration that does not load says so, with the command that lists its errors.
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "main.tf").write_text('resource "sym_flow" "x" {\n', encoding="utf-8")
    said = _help("--config", str(broken))
    assert f"{broken} does not load (1 error; `jitflow validate {broken}` lists them)" in said


def _request(**values: object) -> AccessRequestInput:
    base: dict[str, object] = {
        "flow": "aptible_access",
        "target": "admin_prod",
        "requester": "alice@example.com",
        "duration": "1h",
        "reason": "investigate incident 42",
    }
    return AccessRequestInput.model_validate(base | values)


def test_a_missing_field_names_the_option_to_add(tmp_path: Path) -> None:
    config = load_config(EXAMPLE)
    with pytest.raises(RequestRefused) as refused:
        resolve_request(config, _request(reason=None))
    message = str(refused.value)
    assert message.startswith("missing --reason: ")
    assert "['reason']" not in message and '"reason"' in message

    flows = tmp_path / "flows"
    shutil.copytree(EXAMPLE, flows)
    flow_file = flows / "flow.tf"
    flow_file.write_text(
        flow_file.read_text(encoding="utf-8").replace(
            '    prompt_field {\n      name     = "reason"',
            '    prompt_field {\n      name     = "ticket"\n      type     = "string"\n'
            '      required = true\n    }\n\n    prompt_field {\n      name     = "reason"',
        ),
        encoding="utf-8",
    )
    with pytest.raises(RequestRefused) as both:
        resolve_request(load_config(flows), _request(reason=None))
    assert str(both.value).startswith("missing --reason and --field ticket=VALUE: ")
    assert '"fields": {"ticket": ...}' in str(both.value)


def test_context_reaches_the_resolved_request_and_old_inputs_still_decode() -> None:
    config = load_config(EXAMPLE)
    resolved = resolve_request(config, _request(context={"ticket": "INC-42", "sev": 2}))
    assert resolved.context == {"ticket": "INC-42", "sev": 2}
    assert "ticket" not in resolved.fields  # never shadows a prompt field

    # An input and a resolved request recorded before the field existed.
    old_input = AccessRequestInput.model_validate_json(
        '{"flow": "aptible_access", "target": "admin_prod", "requester": "a@example.com"}'
    )
    assert old_input.context == {} and old_input.unknown_keys() == []
    old_resolved = json.loads(resolved.model_dump_json())
    del old_resolved["context"]
    assert ResolvedRequest.model_validate(old_resolved).context == {}
    # An empty context is not sent: the input the Web UI shows is what the caller wrote.
    assert "context" not in json.loads(_request().model_dump_json())

    # A context that is not an object fails the run with a message naming it.
    with pytest.raises(RequestRefused, match="context = 'INC-42': expected an object"):
        resolve_request(config, _request(context="INC-42"))


def test_context_options_merge_pairs_and_json_files(tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    first.write_text('{"ticket": "INC-1", "pager": {"id": 7}}', encoding="utf-8")
    assert parse_context((f"@{first}", "ticket=INC-2", "team=db=ops")) == {
        "ticket": "INC-2",
        "pager": {"id": 7},
        "team": "db=ops",
    }
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]", encoding="utf-8")
    runner = CliRunner()
    base = ["request", "--target", "t", "--requester", "a@example.com", "--duration", "1h"]
    for bad, said in (
        ("ticket", "'ticket' is neither KEY=VALUE nor @FILE.json"),
        (f"@{tmp_path / 'none.json'}", "cannot read"),
        (f"@{listed}", "holds a JSON list, not an object"),
    ):
        result = runner.invoke(main, [*base, "--context", bad])
        assert result.exit_code == ExitCode.USAGE, result.output
        assert said in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("command", "status", "accepted", "code"),
    [
        ("request", "escalated", True, ExitCode.DONE),
        ("request", "approved", True, ExitCode.PENDING),
        ("request", "pending", True, ExitCode.PENDING),
        ("request", "denied", True, ExitCode.REFUSED),
        ("request", "failed", True, ExitCode.FAILED),
        ("approve", "escalated", True, ExitCode.DONE),
        ("approve", "pending", False, ExitCode.REFUSED),
        ("approve", "deescalated", True, ExitCode.REFUSED),
        ("approve", "failed", True, ExitCode.FAILED),
        ("deny", "denied", True, ExitCode.DONE),
        ("deny", "pending", False, ExitCode.REFUSED),
        ("revoke", "deescalated", True, ExitCode.DONE),
        ("revoke", "failed", True, ExitCode.FAILED),
        ("cancel", "cancelled", True, ExitCode.DONE),
    ],
)
def test_exit_codes_by_outcome(command: Command, status: str, accepted: bool, code: int) -> None:
    assert exit_code(command, status, accepted=accepted) == code


def test_field_values_are_checked_against_the_flows_fields(tmp_path: Path) -> None:
    """What the Slack form would never offer is refused for CLI and API callers too, since the
    values reach get_permissions and get_approvers at the add-membership check."""
    flows = tmp_path / "flows"
    shutil.copytree(EXAMPLE, flows)
    flow_file = flows / "flow.tf"
    flow_file.write_text(
        flow_file.read_text(encoding="utf-8").replace(
            '    prompt_field {\n      name     = "reason"',
            '    prompt_field {\n      name           = "env"\n      type           = "string"\n'
            '      required       = false\n      allowed_values = ["staging", "prod"]\n    }\n\n'
            '    prompt_field {\n      name     = "count"\n      type     = "int"\n'
            "      required = false\n    }\n\n"
            '    prompt_field {\n      name     = "reason"',
        ),
        encoding="utf-8",
    )
    config = load_config(flows)
    resolved = resolve_request(config, _request(fields={"env": "prod", "count": "+3"}))
    assert resolved.fields["env"] == "prod"
    assert resolved.fields["count"] == 3  # typed, as Sym hands int fields to reducers
    # A flow whose on_change handlers may offer other choices: its Slack form checks them.
    (impl := tmp_path / "on_change.py").write_text(
        "def on_change_env(username, form_fields):\n    return form_fields\n", encoding="utf-8"
    )
    flow = next(iter(config.flows.values()))
    fields = tuple(
        f.model_copy(update={"on_change": str(impl)}) if f.name == "env" else f
        for f in flow.params.prompt_fields
    )
    params = flow.params.model_copy(update={"prompt_fields": fields})
    changing_config = config.model_copy(
        update={"flows": {flow.key: flow.model_copy(update={"params": params})}}
    )
    changing = resolve_request(changing_config, _request(fields={"env": "dev"}))
    assert changing.fields["env"] == "dev"
    refusals = {
        "env": ("admin", "field 'env' = 'admin' is not one of its values: staging, prod"),
        "count": ("many", "field 'count' = 'many' is not a whole number"),
        "tier": ("gold", "field 'tier' is not a field of flow"),
    }
    for name, (value, expected) in refusals.items():
        with pytest.raises(RequestRefused, match=expected):
            resolve_request(config, _request(fields={name: value}))
