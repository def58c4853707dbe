"""`jitflow dev`'s Slack: the configuration it runs with, its workspace, what it prints.

The end-to-end loop (request, message, signed click, grant, removal, DMs) is played by the demo
test in ``test_dev_stack.py``; these check the pieces without starting the stack.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

from jitflow.config.loader import load_config
from jitflow.config.slack import slack_integration
from jitflow.devstack.demo import instructions
from jitflow.devstack.slack_config import INTEGRATION_KEY, SLACK_TF, prepare_config, with_slack_id
from jitflow.devstack.slack_demo import readable, shown
from jitflow.devstack.slack_workspace import REQUEST_CHANNEL_ID, workspace, write_workspace
from jitflow.devstack.stack import StackSettings
from jitflow.emulator.slack_state import MessageVersion, SlackState

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples/aptible"


def test_the_copy_announces_in_the_emulator_and_the_example_is_left_alone(tmp_path: Path) -> None:
    before = sorted(p.name for p in EXAMPLE.iterdir())
    target = prepare_config(EXAMPLE, tmp_path / "config")
    assert sorted(p.name for p in EXAMPLE.iterdir()) == before
    assert SLACK_TF not in before and (target / SLACK_TF).is_file()
    assert filecmp.cmp(EXAMPLE / "main.tf", target / "main.tf", shallow=False)

    config = load_config(target)
    slack = slack_integration(config, config.flows["this"])
    assert slack is not None and slack.key == INTEGRATION_KEY
    assert slack.external_id == "T0JITFLOW"
    assert slack.settings["request_channel"] == "#access-requests"
    # Credentials are where the sym_secrets point, never in the configuration.
    assert {s.path for s in slack.secrets.values()} == {"jitflow-dev/slack-app"}
    assert "xoxb" not in (target / SLACK_TF).read_text()
    environment = config.environments[config.flows["this"].environment or ""]
    assert environment.integrations["slack"] == INTEGRATION_KEY
    assert slack_integration(load_config(EXAMPLE), load_config(EXAMPLE).flows["this"]) is None

    # Made afresh each start: a stale file in the copy does not survive.
    (target / "stale.tf").write_text("this is not terraform")
    prepare_config(EXAMPLE, target)
    assert not (target / "stale.tf").exists()


def test_an_environment_with_its_own_integrations_map_keeps_it() -> None:
    text = 'resource "sym_environment" "e" {\n  name = "x"\n  integrations = { a_id = 1 }\n}\n'
    assert with_slack_id(text) == text
    bare = 'resource "sym_environment" "e" {\n  name = "x"\n}\n'
    assert f"slack_id = sym_integration.{INTEGRATION_KEY}.id" in with_slack_id(bare)


def test_the_workspace_has_every_example_person_and_no_credential(tmp_path: Path) -> None:
    path = write_workspace(tmp_path / "slack-state.json")
    assert "xoxb" not in path.read_text() and "signing" not in path.read_text()
    state = SlackState.model_validate_json(path.read_text())
    assert state.user_by_email("bob@example.com") is not None
    channel = state.channel("#access-requests")
    assert channel is not None and channel.id == REQUEST_CHANNEL_ID
    assert set(channel.members) == {u.id for u in workspace().users}


def test_the_printed_block_names_the_slack_emulator_and_the_front_door() -> None:
    block = instructions(StackSettings(slack_port=18785, front_door_port=18786))
    assert (
        "Slack emulator:     http://127.0.0.1:18785   (messages: "
        f"http://127.0.0.1:18785/_emulator/messages?channel={REQUEST_CHANNEL_ID}" in block
    )
    assert "Slack front door:   http://127.0.0.1:18786/slack/interactions" in block


def test_worker_and_front_door_point_at_the_copy_and_the_emulator() -> None:
    settings = StackSettings(state_dir=Path("/s"), slack_port=5)
    env = settings.worker_env()
    assert env["JITFLOW_CONFIG"] == "/s/config"
    assert env["JITFLOW_SLACK_API_URL"] == "http://127.0.0.1:5/api/"


def test_messages_read_as_a_person_sees_them() -> None:
    version = MessageVersion(
        text="fallback",
        blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": "*a* &lt;b&gt;\n`c`"}},
            {
                "type": "actions",
                "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Go"}}],
            },
        ],
    )
    assert shown(version) == "a <b> / c  [Go]"
    assert readable("*x*") == "x"
