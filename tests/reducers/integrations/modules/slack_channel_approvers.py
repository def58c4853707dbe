# A Sym impl.py in the shape of Sym's legacy routing examples: the request goes to #approvers,
# and whoever is in that channel may approve it (the requester not: allow_self is False).
# Only its import lines name `reducers` (Sym's: `sym.sdk`).
from reducers.annotations import reducer
from reducers.integrations import slack


@reducer
def get_approvers(event):
    return slack.channel("#approvers", allow_self=False)
