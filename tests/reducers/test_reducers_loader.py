"""Loading a flow's implementation: found by name, checked at load time, reloaded on change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from reducer_test_support import file_implementation, make_config, write_module

from jitflow.config.models import Implementation
from jitflow.reducer_runtime import (
    ImplementationCache,
    ImplementationError,
    check_implementations,
    load_implementation,
)

GOOD = """
from reducers.annotations import hook, reducer


def helper(value):
    return value


@reducer
def get_permissions(event):
    return None


@hook
def on_request(event):
    return None
"""


def problems(path: Path) -> list[str]:
    with pytest.raises(ImplementationError) as caught:
        load_implementation(file_implementation(path))
    return [str(p) for p in caught.value.problems]


def test_module_implementation_loads_the_example() -> None:
    loaded = load_implementation(Implementation(kind="module", module="reducers.aptible_access"))
    assert set(loaded.handlers) == {"get_permissions", "on_request", "after_escalate"}
    assert loaded.path.name == "aptible_access.py"


def test_file_implementation_finds_handlers_by_name(tmp_path: Path) -> None:
    loaded = load_implementation(file_implementation(write_module(tmp_path, GOOD)))
    assert set(loaded.handlers) == {"get_permissions", "on_request"}
    assert loaded.where("on_request").endswith("impl.py:14")


def test_relative_file_is_found_beside_the_tf_file(tmp_path: Path) -> None:
    write_module(tmp_path, GOOD, "flow_impl.py")
    config = make_config(
        Implementation(kind="file", path="flow_impl.py"), tf_file=tmp_path / "flow.tf"
    )
    assert check_implementations(config) == []


def test_misnamed_hook_is_named_with_file_line_and_suggestion(tmp_path: Path) -> None:
    path = write_module(tmp_path, "def on_requst(event):\n    return None\n")
    assert problems(path) == [
        f"{path}:1: on_requst: not a reducer or hook name: did you mean on_request? "
        "(dispatch is by name; rename it, or give a helper a name further from the handler names)"
    ]


def test_decorated_function_with_an_unknown_name_is_refused(tmp_path: Path) -> None:
    path = write_module(
        tmp_path,
        "from reducers import reducer\n\n@reducer\ndef who_approves(event):\n    return None\n",
    )
    [problem] = problems(path)
    assert problem.startswith(f"{path}:4: who_approves: is marked @reducer but is not a reducer")


def test_wrong_signature_names_the_arguments_sym_passes(tmp_path: Path) -> None:
    path = write_module(
        tmp_path,
        """
        def get_permissions(event, extra):
            return None

        def get_identity(event):
            return None

        def on_request(event, *, required_flag):
            return None

        def after_approve(event, context=None):
            return None
        """,
    )
    assert problems(path) == [
        f"{path}:1: get_permissions: wrong signature get_permissions(event, extra): "
        "it is called with 1 argument: (event)",
        f"{path}:4: get_identity: wrong signature get_identity(event): "
        "it is called with 4 arguments: (event, service_type, external_id, user)",
        f"{path}:7: on_request: wrong signature on_request(event, *, required_flag): "
        "it is called with 1 argument: (event)",
    ]


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write_module(tmp_path, "def get_permissions(event):\n    return (\n\nx = 1\n")
    [problem] = problems(path)
    assert problem.startswith(f"{path}:2: syntax error:")


def test_sym_imports_fail_with_the_porting_hint(tmp_path: Path) -> None:
    path = write_module(tmp_path, "import os\nfrom sym.sdk.annotations import hook\n")
    assert problems(path) == [
        f"{path}:2: importing the module failed: ModuleNotFoundError: No module named 'sym'; "
        "replace `sym.sdk` with `reducers` in the imports (see reducers/README.md)"
    ]


def test_missing_module_and_file_are_configuration_errors(tmp_path: Path) -> None:
    config = make_config(Implementation(kind="module", module="reducers.no_such_module"))
    assert check_implementations(config) == [
        "sym_flow.this: reducers.no_such_module: cannot find module 'reducers.no_such_module' "
        "(no such .py module)"
    ]
    missing = tmp_path / "gone.py"
    [error] = check_implementations(make_config(file_implementation(missing)))
    assert error.startswith(f"sym_flow.this: {missing}: implementation file not found")


def test_check_implementations_names_the_flow_and_bad_vars(tmp_path: Path) -> None:
    path = write_module(tmp_path, "def on_requst(event):\n    pass\n")
    config = make_config(file_implementation(path), vars={"hook_timeout": "soon"})
    errors = check_implementations(config)
    assert errors[0].startswith("sym_flow.this: vars.hook_timeout = 'soon' is not a duration")
    assert errors[1].startswith(f"sym_flow.this: {path}:1: on_requst: ")
    assert check_implementations(make_config(None)) == []


def test_cache_reloads_when_the_file_changes(tmp_path: Path) -> None:
    path = write_module(tmp_path, GOOD)
    implementation = file_implementation(path)
    cache = ImplementationCache()
    first = cache.get(implementation)
    assert cache.get(implementation) is first

    path.write_text(GOOD + "\n\ndef after_escalate(event):\n    return 'done'\n")
    bump_mtime(path)
    second = cache.get(implementation)
    assert second is not first and "after_escalate" in second.handlers

    path.write_text("def on_requst(event):\n    pass\n")
    bump_mtime(path)
    with pytest.raises(ImplementationError, match="did you mean on_request"):
        cache.get(implementation)

    path.write_text(GOOD)
    bump_mtime(path)
    assert set(cache.get(implementation).handlers) == {"get_permissions", "on_request"}


def bump_mtime(path: Path) -> None:
    """Move the file's mtime forward, as an editor saving a second later would."""
    status = path.stat()
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))
