"""Load a flow's implementation module, check its handlers, and reload it when its file changes.

A flow's ``implementation`` is a module (``reducers.aptible_access``) or a Python file (``impl.py``,
relative to the ``.tf`` file that names it). Both load the same way: the file is compiled and
executed as a fresh module, then every function is checked against the names and arguments Sym
dispatches on. Anything wrong becomes an ``ImplementationError`` naming the file, the line and the
function, so that ``jitflow validate`` and worker start report it before any grant runs.

``ImplementationCache`` keeps one loaded copy per file per worker and reloads it when the file's
modification time or size changes; a reload that fails keeps nothing and reports the error.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import inspect
import linecache
import re
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from jitflow.config.models import Flow, Implementation
from jitflow.reducer_runtime.errors import ImplementationError, ImplementationProblem
from jitflow.reducer_runtime.handlers import (
    HANDLER_ARGUMENTS,
    ON_CHANGE_ARGUMENTS,
    ON_CHANGE_PREFIX,
    UNCHECKED_HANDLERS,
    accepts_arguments,
    known_handler_names,
)
from jitflow.sdk.annotations import HANDLER_KIND_ATTRIBUTE, PREFETCH_FIELD_ATTRIBUTE

Handler = Callable[..., Any]

_HANDLER_PREFIXES = ("get_", "on_", "after_")
_SIMILARITY_CUTOFF = 0.8


@dataclass(frozen=True)
class LoadedImplementation:
    """A checked implementation module and its handlers by name."""

    display: str
    """What the flow's ``implementation`` says: the module name or the file path."""
    path: Path
    module: ModuleType
    handlers: Mapping[str, Handler]
    prefetchers: Mapping[str, Handler] = field(default_factory=dict)
    """``@prefetch(field_name=...)`` functions by the prompt field they fill (any name)."""

    def get(self, name: str) -> Handler | None:
        return self.handlers.get(name)

    def where(self, name: str) -> str:
        """``file:line`` of handler ``name`` (or of a prefetch function so named)."""
        handler = self.handlers.get(name) or next(
            (f for f in self.prefetchers.values() if f.__name__ == name), None
        )
        line = definition_line(handler) if handler else None
        return f"{self.path}:{line}" if line else str(self.path)


def definition_line(function: Handler) -> int | None:
    """The line of ``function``'s ``def`` (below its decorators)."""
    code = getattr(function, "__code__", None)
    if code is None:
        return None
    first: int = code.co_firstlineno
    linecache.checkcache(code.co_filename)
    for line in range(first, first + 50):
        text = linecache.getline(code.co_filename, line).lstrip()
        if text.startswith(("def ", "async def ")):
            return line
        if not text:
            break
    return first


def implementation_path(implementation: Implementation, flow: Flow | None = None) -> Path:
    """The Python file ``implementation`` names; ``ImplementationError`` when there is none."""
    if implementation.kind == "module":
        name = implementation.module or ""
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError) as error:
            raise _single(name, None, None, f"cannot find module {name!r}: {error}") from None
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            raise _single(name, None, None, f"cannot find module {name!r} (no such .py module)")
        return Path(spec.origin)
    raw = implementation.path or ""
    path = Path(raw).expanduser()
    if not path.is_absolute() and flow is not None and flow.location is not None:
        path = Path(flow.location.file).parent / path
    if not path.is_file():
        raise _single(raw, None, None, f"implementation file not found (looked at {path})")
    return path.resolve()


def load_implementation(
    implementation: Implementation, flow: Flow | None = None
) -> LoadedImplementation:
    """Load and check ``implementation`` afresh; raises ``ImplementationError`` listing problems."""
    path = implementation_path(implementation, flow)
    module_name = (
        implementation.module
        if implementation.kind == "module" and implementation.module
        else _file_module_name(path)
    )
    module = _execute(path, module_name)
    handlers, prefetchers, problems = _collect_handlers(module, path)
    if problems:
        raise ImplementationError(problems)
    return LoadedImplementation(implementation.display, path, module, handlers, prefetchers)


def _single(file: str, line: int | None, function: str | None, message: str) -> ImplementationError:
    return ImplementationError([ImplementationProblem(file, line, function, message)])


def _file_module_name(path: Path) -> str:
    """A private, stable module name for a file loaded by path (two files never share one)."""
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:10]
    stem = re.sub(r"\W", "_", path.stem)
    return f"_jitflow_impl_{stem}_{digest}"


def _execute(path: Path, module_name: str) -> ModuleType:
    """Compile and run the file as a fresh module registered under ``module_name``."""
    shown = str(path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise _single(shown, None, None, f"cannot read the file: {error}") from None
    try:
        code = compile(source, shown, "exec")
    except SyntaxError as error:
        raise _single(shown, error.lineno, None, f"syntax error: {error.msg}") from None
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None:
        raise _single(shown, None, None, "cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(module_name)
    sys.modules[module_name] = module
    try:
        exec(code, module.__dict__)
    except Exception as error:
        if previous is None:
            sys.modules.pop(module_name, None)
        else:
            sys.modules[module_name] = previous
        raise _single(shown, _line_in(error, shown), None, _import_failure(error)) from None
    parent, _, child = module_name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)  # as ``import parent.child`` would
    return module


def _line_in(error: BaseException, filename: str) -> int | None:
    """The last line of ``filename`` on the error's traceback."""
    line = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    return line


def _import_failure(error: Exception) -> str:
    text = f"importing the module failed: {type(error).__name__}: {error}"
    if isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] == "sym":
        text += "; replace `sym.sdk` with `reducers` in the imports (see reducers/README.md)"
    return text


def _collect_handlers(
    module: ModuleType, path: Path
) -> tuple[dict[str, Handler], dict[str, Handler], list[ImplementationProblem]]:
    handlers: dict[str, Handler] = {}
    prefetchers: dict[str, Handler] = {}
    problems: list[ImplementationProblem] = []
    names = known_handler_names()
    for name, value in vars(module).items():
        if not inspect.isfunction(value):
            continue
        marked = getattr(value, HANDLER_KIND_ATTRIBUTE, None)
        if value.__module__ != module.__name__ and marked is None:
            continue  # a helper imported from elsewhere
        line = definition_line(value) or 0

        def problem(message: str, name: str = name, line: int = line) -> None:
            problems.append(ImplementationProblem(str(path), line, name, message))

        if marked == "prefetch":
            field_name = str(getattr(value, PREFETCH_FIELD_ATTRIBUTE, ""))
            other = prefetchers.get(field_name)
            if not accepts_arguments(value, 1):
                problem("a prefetch function takes one argument: (event)")
            elif other is not None and other is not value:
                problem(
                    f"a second prefetch function for field {field_name!r} "
                    f"(the first is {other.__name__}); one function fills a field"
                )
            else:
                prefetchers[field_name] = value
            continue
        expected = _expected_arguments(name)
        if expected is not None:
            if not accepts_arguments(value, len(expected)):
                problem(
                    f"wrong signature {name}{inspect.signature(value)}: it is called with "
                    f"{len(expected)} argument{'s' * (len(expected) != 1)}: ({', '.join(expected)})"
                )
            else:
                handlers[name] = value
            continue
        if name in UNCHECKED_HANDLERS:
            handlers[name] = value
            continue
        close = difflib.get_close_matches(name, names, n=1, cutoff=_SIMILARITY_CUTOFF)
        if close and name.startswith(_HANDLER_PREFIXES):
            problem(
                f"not a reducer or hook name: did you mean {close[0]}? (dispatch is by name; "
                "rename it, or give a helper a name further from the handler names)"
            )
        elif marked in ("reducer", "hook"):
            hint = f"did you mean {close[0]}? " if close else ""
            problem(
                f"is marked @{marked} but is not a {marked} name: {hint}"
                "reducers are get_permissions, get_approvers, get_request_notifications, "
                "get_identity; hooks are on_<event> or after_<event>"
            )
    return handlers, prefetchers, problems


def _expected_arguments(name: str) -> tuple[str, ...] | None:
    if name in HANDLER_ARGUMENTS:
        return HANDLER_ARGUMENTS[name]
    if name.startswith(ON_CHANGE_PREFIX) and len(name) > len(ON_CHANGE_PREFIX):
        return ON_CHANGE_ARGUMENTS
    return None


class ImplementationCache:
    """Loaded implementations of one worker, reloaded when their file changes. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[Path, tuple[tuple[int, int], LoadedImplementation]] = {}

    def get(self, implementation: Implementation, flow: Flow | None = None) -> LoadedImplementation:
        """The implementation, loaded now if it never was or its file changed since."""
        path = implementation_path(implementation, flow)
        with self._lock:
            stamp = _stamp(path)
            cached = self._loaded.get(path)
            if cached is not None and cached[0] == stamp:
                return cached[1]
            self._loaded.pop(path, None)
            loaded = load_implementation(implementation, flow)
            self._loaded[path] = (stamp, loaded)
            return loaded


def _stamp(path: Path) -> tuple[int, int]:
    try:
        status = path.stat()
    except OSError as error:
        raise _single(str(path), None, None, f"cannot read the file: {error}") from None
    return status.st_mtime_ns, status.st_size
