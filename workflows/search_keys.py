"""Typed keys of the ``Jit*`` search attributes the access workflow upserts.

The names and types match ``jitflow.search_attributes.SEARCH_ATTRIBUTE_TYPES``, which every
server the project starts registers; ``temporal workflow list --query "JitStatus='escalated'"``
then answers "who has access right now".
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

JIT_FLOW = SearchAttributeKey.for_keyword("JitFlow")
JIT_TARGET = SearchAttributeKey.for_keyword("JitTarget")
JIT_REQUESTER = SearchAttributeKey.for_keyword("JitRequester")
JIT_APPROVER = SearchAttributeKey.for_keyword("JitApprover")
JIT_STATUS = SearchAttributeKey.for_keyword("JitStatus")
JIT_EXPIRES_AT = SearchAttributeKey.for_datetime("JitExpiresAt")
