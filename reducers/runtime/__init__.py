"""jitflow's reducer runtime: load a flow's module, check it, build events, run its functions.

Framework code; user reducers live beside this folder, in the ``reducers`` package or in files.
"""

from reducers.runtime.checks import check_implementations
from reducers.runtime.errors import ImplementationError, ImplementationProblem, ReducerFailed
from reducers.runtime.loader import ImplementationCache, LoadedImplementation, load_implementation
from reducers.runtime.options import hook_options
from reducers.runtime.runner import ReducerRunner, RolesProvider

__all__ = [
    "ImplementationCache",
    "ImplementationError",
    "ImplementationProblem",
    "LoadedImplementation",
    "ReducerFailed",
    "ReducerRunner",
    "RolesProvider",
    "check_implementations",
    "hook_options",
    "load_implementation",
]
