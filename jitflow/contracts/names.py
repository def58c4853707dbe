"""Names that several rooms must spell the same way: task queue, workflow types, updates.

Registered names are part of every recorded history; renaming one breaks replay of running
workflows, so they are defined here once and never derived from Python identifiers.
"""

from __future__ import annotations

#: Task queue and workflow type names, shared by the worker, the CLI and the tests.
DEFAULT_TASK_QUEUE = "jitflow"
ACCESS_WORKFLOW_TYPE = "AccessRequest"
MEMBERSHIP_WORKFLOW_TYPE = "RoleMembership"
#: The visibility query of every open membership owner (the reconciler's, the benchmark's).
RUNNING_OWNERS_QUERY = (
    f"WorkflowType = '{MEMBERSHIP_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'"
)


def hooks_task_queue(task_queue: str) -> str:
    """The task queue of user code (reducers and hooks) for workflows on ``task_queue``: its
    own worker, threads and slots, so that user code never starves the grant path."""
    return f"{task_queue}-hooks"


#: ``AccessRequest``'s updates and query.
APPROVE_UPDATE = "approve"
DENY_UPDATE = "deny"
REVOKE_UPDATE = "revoke"
CANCEL_UPDATE = "cancel"
STATUS_QUERY = "status"

#: ``RoleMembership``'s updates and query.
ADD_LEASE_UPDATE = "add_lease"
RELEASE_LEASE_UPDATE = "release_lease"
STATE_QUERY = "state"
MEMBERSHIP_VANISHED_SIGNAL = "membership_vanished"
#: ``AccessRequest``'s update from the removal activity (a signed ``LeaseEnded``: the membership
#: is gone), and its signal from the owner (``LeaseEndHint``: the lease ended, the membership
#: stays), both when its lease ended on the owner's timer.
LEASE_ENDED_UPDATE = "lease_news"
LEASE_END_HINT_SIGNAL = "lease_end_hint"
#: The unsigned signal of one unreleased build (``LeaseEndNotice``), replayed only.
LEASE_END_NOTICE_SIGNAL = "lease_ended"

#: Slack: the front door's signing key in Secrets Manager (``jitflow slack serve``), and the
#: environment variable naming another secret. Workers read its public key to accept the
#: decisions the front door vouches for.
SLACK_FRONT_DOOR_KEY_SECRET = "jitflow/slack-front-door-key"
SLACK_FRONT_DOOR_KEY_SECRET_ENV = "JITFLOW_SLACK_FRONT_DOOR_KEY_SECRET"
#: The Slack Web API's base URL (an emulator's ``http://127.0.0.1:8785/api/`` in tests and
#: ``jitflow dev``); unset means Slack itself.
SLACK_API_URL_ENV = "JITFLOW_SLACK_API_URL"
