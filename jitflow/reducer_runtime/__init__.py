"""jitflow's reducer runtime: load a flow's module, check it, build events, run its functions.

Framework code; user reducers live beside this folder, in the ``reducers`` package or in files.
"""

from jitflow.reducer_runtime.checks import check_implementations
from jitflow.reducer_runtime.errors import ImplementationError, ImplementationProblem, ReducerFailed
from jitflow.reducer_runtime.loader import (
    ImplementationCache,
    LoadedImplementation,
    load_implementation,
)
from jitflow.reducer_runtime.options import hook_options
from jitflow.reducer_runtime.runner import ReducerRunner, RolesProvider

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
