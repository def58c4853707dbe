"""moto's AWS emulator in server mode, as a child process on a loopback port.

Tests, benchmarks and ``jitflow dev`` point boto3 at it through ``AWS_ENDPOINT_URL``, so the
code under test makes real HTTP calls exactly as it would against AWS. A child process (rather
than moto's in-process ``ThreadedMotoServer``) keeps moto's global state, such as its IAM
authorization switch, out of the caller's interpreter, and is stopped for certain on exit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

import boto3

from jitflow.devstack.ports import free_port

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

#: Credentials moto accepts while authorization is off; they grant nothing anywhere else.
DUMMY_ACCESS_KEY_ID = "testing"
DUMMY_SECRET_ACCESS_KEY = "testing"
DEFAULT_REGION = "us-east-1"

_START_TIMEOUT_SECONDS = 30.0
_STOP_TIMEOUT_SECONDS = 5.0


class MotoServerError(RuntimeError):
    """moto could not be started, or refused a setup call."""


class MotoServer:
    """One ``python -m moto.server`` child process; use as a context manager or call start/stop.

    ``url`` is the endpoint to hand to boto3 (``AWS_ENDPOINT_URL``). Output goes to ``log_file``
    when one is given, otherwise it is discarded (moto logs every request).
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int | None = None, log_file: Path | None = None
    ) -> None:
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"MotoServer(url={self.url!r}, {state})"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> MotoServer:
        """Start moto and wait until it answers HTTP; raise MotoServerError if it does not."""
        if self._process is not None:
            raise MotoServerError(f"moto server at {self.url} was already started")
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_file.open("ab")
        output: IO[bytes] | int = self._log if self._log is not None else subprocess.DEVNULL
        env = dict(os.environ)
        env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)  # authorization is switched on by API only
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            env=env,
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            assert self._process is not None
            code = self._process.poll()
            if code is not None:
                raise MotoServerError(
                    f"moto server exited with code {code} before answering on {self.url}"
                    " (is the port taken, or moto[server] not installed?)"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=1):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        raise MotoServerError(
            f"moto server did not answer on {self.url} within {_START_TIMEOUT_SECONDS:.0f} s"
        )

    def stop(self) -> None:
        """Stop the child process (SIGTERM, then SIGKILL) and wait for it; safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


@contextmanager
def moto_server(host: str = "127.0.0.1", port: int | None = None) -> Iterator[str]:
    """Run moto on a free loopback port for the ``with`` block and yield its endpoint URL."""
    with MotoServer(host, port) as server:
        yield server.url


def secrets_manager_client(
    endpoint_url: str,
    region_name: str = DEFAULT_REGION,
    access_key_id: str = DUMMY_ACCESS_KEY_ID,
    secret_access_key: str = DUMMY_SECRET_ACCESS_KEY,
) -> SecretsManagerClient:
    """A Secrets Manager client for the emulator, independent of the caller's AWS environment."""
    return boto3.session.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name=region_name,
    ).client("secretsmanager", endpoint_url=endpoint_url)


def create_secret(
    endpoint_url: str,
    name: str,
    value: Mapping[str, Any] | str,
    region_name: str = DEFAULT_REGION,
) -> str:
    """Create (or overwrite) a secret whose string value is ``value``, JSON-encoded when a mapping.

    Returns the secret's ARN. Overwriting puts a new current version, as a rotation does.
    """
    secret_string = value if isinstance(value, str) else json.dumps(dict(value))
    client = secrets_manager_client(endpoint_url, region_name)
    try:
        return client.create_secret(Name=name, SecretString=secret_string)["ARN"]
    except client.exceptions.ResourceExistsException:
        return client.put_secret_value(SecretId=name, SecretString=secret_string)["ARN"]


def enforce_iam_authorization(endpoint_url: str, after_requests: int = 0) -> None:
    """Make moto check every request against IAM policies after ``after_requests`` more requests.

    Until then (and by default) moto lets any credentials do anything. Once on, only the keys of
    IAM users created in this moto are accepted, and only for what their policies allow.
    """
    request = urllib.request.Request(
        f"{endpoint_url}/moto-api/reset-auth",
        data=str(after_requests).encode(),
        headers={"Content-Type": "text/plain"},  # a form type would hide the body from moto
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        if response.status != 200:
            raise MotoServerError(f"moto refused reset-auth: HTTP {response.status}")
