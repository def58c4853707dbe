"""``jitflow emulator pagerduty|okta|knowbe4|lambda`` serve their APIs and say where."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import httpx
import pytest
from integration_support import okta_state, pagerduty_state

from jitflow.emulator.okta import DEFAULT_TOKEN as OKTA_TOKEN
from jitflow.emulator.pagerduty import DEFAULT_TOKEN as PAGERDUTY_TOKEN


@contextmanager
def emulator(*args: str) -> Iterator[dict[str, str]]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jitflow",
            "emulator",
            *args,
            "--port",
            "0",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, process.stderr.read() if process.stderr else "no output"
        yield json.loads(line)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_pagerduty_and_okta_serve_a_state_file(tmp_path: Path) -> None:
    pd_file = tmp_path / "pagerduty.json"
    pd_file.write_text(pagerduty_state().model_dump_json())
    with emulator("pagerduty", "--state", str(pd_file)) as printed:
        url = printed["JITFLOW_PAGERDUTY_URL"]
        answer = httpx.get(
            f"{url}/oncalls", headers={"Authorization": f"Token token={PAGERDUTY_TOKEN}"}
        )
        assert answer.status_code == 200 and answer.json()["oncalls"][0]["user"]["id"] == "PALICE"
        assert httpx.get(f"{url}/oncalls").status_code == 401

    okta_file = tmp_path / "okta.json"
    okta_file.write_text(okta_state().model_dump_json())
    with emulator("okta", "--state", str(okta_file)) as printed:
        answer = httpx.get(
            f"{printed['JITFLOW_OKTA_URL']}/api/v1/groups/00gapprovers",
            headers={"Authorization": f"SSWS {OKTA_TOKEN}"},
        )
        assert answer.json()["profile"]["name"] == "Approvers"


def test_lambda_serves_the_named_python_handlers() -> None:
    with emulator("lambda", "--function", "dumps=json:dumps") as printed:
        client = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        ).client("lambda", endpoint_url=printed["JITFLOW_LAMBDA_URL"])
        echoed = client.invoke(FunctionName="echo", Payload=b'{"a": 1}')
        assert json.loads(echoed["Payload"].read()) == {"event": {"a": 1}, "function": "echo"}
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.invoke(FunctionName="missing", Payload=b"{}")
