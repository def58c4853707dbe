"""The services of the local stack and the environment that points the worker at them.

The worker runs with exactly the variables it would use in production (``TEMPORAL_ADDRESS``,
``AWS_ENDPOINT_URL``, ``APTIBLE_AUTH_ROOT_URL``...): only the endpoints differ.
"""

from __future__ import annotations

import json
import shutil
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jitflow.contracts.names import SLACK_API_URL_ENV
from jitflow.devstack.binaries import temporal_cli
from jitflow.devstack.ports import SLACK_EMULATOR_PORT, SLACK_FRONT_DOOR_PORT
from jitflow.devstack.supervisor import Service, StackError, tcp_ready
from jitflow.search_attributes import dev_server_args

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

#: The bot secret of the example configuration, as Sym's page shows it.
EXAMPLE_SECRET_NAME = "sym/main/aptible-bot-credentials"
EXAMPLE_BOT = {"username": "aptible-bot@example.com", "password": "super-secret"}


@dataclass(frozen=True)
class StackSettings:
    """Where everything lives and listens. Defaults are the ports the README names."""

    state_dir: Path = Path(".jitflow")
    config_dir: Path = Path("examples/aptible")
    temporal_port: int = 7233
    ui_port: int = 8233
    aptible_port: int = 8780
    aws_port: int = 4566
    slack_port: int = SLACK_EMULATOR_PORT
    front_door_port: int = SLACK_FRONT_DOOR_PORT
    host: str = "127.0.0.1"

    @property
    def temporal_address(self) -> str:
        return f"{self.host}:{self.temporal_port}"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.ui_port}"

    @property
    def aptible_url(self) -> str:
        return f"http://{self.host}:{self.aptible_port}"

    @property
    def aws_url(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def slack_url(self) -> str:
        """The Slack emulator: its Web API under ``/api/``, what it recorded under ``/_emulator/``."""
        return f"http://{self.host}:{self.slack_port}"

    @property
    def front_door_url(self) -> str:
        """``jitflow slack serve``'s base URL (interactions at ``/slack/interactions``)."""
        return f"http://{self.host}:{self.front_door_port}"

    @property
    def run_config_dir(self) -> Path:
        """The configuration the stack runs with: a copy of ``config_dir`` plus the dev stack's
        Slack integration (``jitflow.devstack.slack_config``), so ``config_dir`` is never changed."""
        return self.state_dir / "config"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.state_dir / 'jitflow.db'}"

    @property
    def emulator_state(self) -> Path:
        return self.state_dir / "aptible-state.json"

    def worker_env(self) -> dict[str, str]:
        return {
            "TEMPORAL_ADDRESS": self.temporal_address,
            "TEMPORAL_NAMESPACE": "default",
            "JITFLOW_CONFIG": str(self.run_config_dir),
            "JITFLOW_DATABASE_URL": self.database_url,
            "APTIBLE_AUTH_ROOT_URL": self.aptible_url,
            "AWS_ENDPOINT_URL": self.aws_url,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "jitflow-dev",
            "AWS_SECRET_ACCESS_KEY": "jitflow-dev",
            SLACK_API_URL_ENV: f"{self.slack_url}/api/",
            # The dev stack's only build is the one to run new requests on.
            "JITFLOW_SET_CURRENT": "1",
        }


def http_ready(url: str) -> bool:
    """A readiness probe: the server at ``url`` answers HTTP (any status below 500)."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(200 <= response.status < 500)
    except OSError:
        return False


def temporal_service(settings: StackSettings) -> Service:
    argv = [
        str(temporal_cli()),
        "server",
        "start-dev",
        "--ip",
        settings.host,
        "--port",
        str(settings.temporal_port),
        "--ui-port",
        str(settings.ui_port),
        "--db-filename",
        str(settings.state_dir / "temporal.db"),
        "--ui-disable-news-fetch",
        "--log-level",
        "warn",
    ]
    argv += dev_server_args()
    ui_probe = settings.ui_url
    grpc_probe = tcp_ready(settings.temporal_port, settings.host)
    return Service(
        name="temporal",
        argv=argv,
        ready=lambda: grpc_probe() and http_ready(ui_probe),
        ports=(settings.temporal_port, settings.ui_port),
        ready_timeout=90.0,
    )


def aptible_emulator_service(settings: StackSettings) -> Service:
    if not settings.emulator_state.exists():
        seed = settings.config_dir / "emulator-state.json"
        if not seed.is_file():
            where = (
                f"{settings.config_dir} has no emulator-state.json"
                if settings.config_dir.is_dir()
                else f"there is no folder {settings.config_dir}"
            )
            raise StackError(
                f"aptible-emulator: {where}, which the local Aptible emulator starts from; "
                "pass --config with a folder that has one (examples/aptible does), or copy "
                "examples/aptible/emulator-state.json there"
            )
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(seed, settings.emulator_state)
    return Service(
        name="aptible-emulator",
        argv=[
            sys.executable,
            "-m",
            "jitflow",
            "emulator",
            "aptible",
            "--host",
            settings.host,
            "--port",
            str(settings.aptible_port),
            "--state",
            str(settings.emulator_state),
        ],
        ready=lambda: http_ready(f"{settings.aptible_url}/"),
        ports=(settings.aptible_port,),
    )


def secrets_manager_service(settings: StackSettings) -> Service:
    return Service(
        name="secrets-manager",
        argv=[
            sys.executable,
            "-m",
            "moto.server",
            "-H",
            settings.host,
            "-p",
            str(settings.aws_port),
        ],
        ready=lambda: http_ready(f"{settings.aws_url}/moto-api/"),
        ports=(settings.aws_port,),
    )


def worker_service(settings: StackSettings) -> Service:
    ready_file = settings.state_dir / "worker.ready"
    ready_file.unlink(missing_ok=True)
    return Service(
        name="worker",
        argv=[sys.executable, "-m", "jitflow", "worker", "--ready-file", str(ready_file)],
        env=settings.worker_env(),
        ready=ready_file.exists,
        ready_timeout=90.0,
    )


def secrets_client(settings: StackSettings) -> SecretsManagerClient:
    """A client of the stack's local Secrets Manager, with the stack's dummy credentials."""
    import boto3

    return boto3.client(
        "secretsmanager",
        endpoint_url=settings.aws_url,
        region_name="us-east-1",
        aws_access_key_id="jitflow-dev",
        aws_secret_access_key="jitflow-dev",
    )


def create_example_secret(settings: StackSettings) -> None:
    """Store the example bot credentials in the local Secrets Manager, as a user would in AWS."""
    client = secrets_client(settings)
    value = json.dumps(EXAMPLE_BOT)
    try:
        client.create_secret(Name=EXAMPLE_SECRET_NAME, SecretString=value)
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=EXAMPLE_SECRET_NAME, SecretString=value)
