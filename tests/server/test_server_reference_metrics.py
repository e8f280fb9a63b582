"""The metrics counted as the reference counts them, read from the server process's /metrics
(docs/cli.md "Server endpoints"): its `uknown_user` spelling, a non-POST counted as
`malformed_request`, the global endpoint labelled `StsRegion="global"`; and the reference's refusal
of an empty backend mode list at start."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.processes import Webhook, config_text
from tests.support.sts_standin import StsStandIn
from tests.support.tokens import WEBHOOK_CLUSTER, encode, presign_url

ACCOUNT = "111122223333"
MAPPED = ("AKIAMAPPED0000000KEY", (ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/mapped", "AIDAMAPPED000000001"))
UNMAPPED = ("AKIAUNMAPPED00000KEY", (ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/stranger", "AIDASTRANGER0000001"))
SECRET = "secret/not/checked/by/the/stand/in/0000000"


def _token(access_key_id: str, host: str = "sts.us-west-2.amazonaws.com", region: str = "us-west-2") -> str:
    url = presign_url(
        access_key=access_key_id,
        secret_key=SECRET,
        host=host,
        region=region,
        cluster_id=WEBHOOK_CLUSTER,
        signed_at=datetime.now(UTC),
    )
    return encode(url)


def _samples(exposition: str, name: str) -> dict[str, float]:
    """{label text: value} of ``aws_iam_authenticator_<name>``."""
    pattern = re.compile(rf"^aws_iam_authenticator_{re.escape(name)}\{{([^}}]*)\}} (\S+)$", re.M)
    return {labels: float(value) for labels, value in pattern.findall(exposition)}


@pytest.fixture
def webhook(tmp_path: Path) -> Iterator[tuple[Webhook, StsStandIn]]:
    with StsStandIn(tmp_path, dict([MAPPED, UNMAPPED])) as sts:
        config = tmp_path / "config.yaml"
        config.write_text(config_text(sts.url, sts.ca_path, MAPPED[1][1]))
        with Webhook(config, tmp_path / "state") as server:
            yield server, sts


def test_results_methods_and_regions_are_labelled_as_the_reference_does(
    webhook: tuple[Webhook, StsStandIn],
) -> None:
    server, sts = webhook
    assert server.review(_token(MAPPED[0])).status_code == 200
    assert server.review(_token(UNMAPPED[0])).status_code == 403
    for method in ("GET", "PUT", "DELETE"):
        response = server.client.request(method, "/authenticate")
        assert response.status_code == 405  # answered as before, now counted
        assert response.headers["allow"] == "POST"
    # A token for the global endpoint, signed for us-east-1 as the SDKs sign it.
    assert server.review(_token(MAPPED[0], host="sts.amazonaws.com", region="us-east-1")).status_code == 200
    assert [seen["host"] for seen in sts.seen][-1] == "sts.amazonaws.com"

    metrics = server.client.get("/metrics").text
    counts = _samples(metrics, "authenticate_latency_seconds_count")
    assert counts['result="uknown_user"'] == 1
    assert 'result="unknown_user"' not in counts
    assert counts['result="malformed_request"'] == 3
    assert counts['result="success"'] == 2
    responses = _samples(metrics, "sts_responses_total")
    assert responses['ResponseCode="200",StsRegion="global"'] == 1
    assert responses['ResponseCode="200",StsRegion="us-west-2"'] == 2
    assert not any('StsRegion="us-east-1"' in labels for labels in responses)


def test_a_global_endpoint_failure_names_it_global(tmp_path: Path) -> None:
    with StsStandIn(tmp_path, dict([MAPPED]), mode="throttle") as sts:
        config = tmp_path / "config.yaml"
        config.write_text(config_text(sts.url, sts.ca_path, MAPPED[1][1]))
        with Webhook(config, tmp_path / "state") as server:
            response = server.review(_token(MAPPED[0], host="sts.amazonaws.com", region="us-east-1"))
            assert response.status_code == 429
            assert "on global endpoint" in response.json()["status"]["error"]
            throttled = _samples(server.client.get("/metrics").text, "sts_throttling_total")
            assert throttled == {'StsRegion="global"': 1}


@pytest.mark.parametrize(
    ("where", "args"),
    [
        ("file", []),
        ("flag", ["--backend-mode", ""]),
    ],
)
def test_an_empty_backend_mode_list_stops_the_server(tmp_path: Path, where: str, args: list[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("clusterID: c\nserver:\n  backendMode: []\n" if where == "file" else "clusterID: c\n")
    result = subprocess.run(
        [sys.executable, "-m", "authenticator", "server", "-c", str(config), "--state-dir", str(tmp_path / "s"), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert "server.backendMode: no backend mode given" in result.stderr
    assert not (tmp_path / "s").exists()
