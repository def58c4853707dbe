"""The contract every room of jitflow speaks: message models, names, activity references.

``workflows/``, ``activities/``, the CLI, the dev stack, the benchmark and the tests depend on
this package and not on each other. Everything here is pure (pydantic models, constants, small
functions): workflow code imports it, inside Temporal's strict sandbox in the tests.

- ``base``: the frozen ``Contract`` model base and ``normalize_email``.
- ``names``: task queue, workflow types, update and query names.
- ``access``: ``AccessRequest``'s input, decisions, state.
- ``membership``: ``RoleMembership``'s key, leases and Aptible calls.
- ``events``: what reducers and hooks receive and return.
- ``identity``: the identity activities' messages.
- ``hooks``: the hooks a request runs and how each one's failure counts.
- ``activities``: every activity's name, input and result.
- ``failures``: reading a Temporal failure back into its message.
- ``mass_revocation``: what ``jitflow revoke --all`` selects and reports.
"""
