"""``server.dynamicBackendModePath`` through the server process (docs/mapping.md §4): the order of
the sources follows the JSON file as the reference reads it, without a restart; a bad file keeps the
last good chain and says so (log, /readyz, dynamicfile_failures_total); a deleted file brings back
``backendMode``; from the second load on, dynamic_e2e_latency_seconds{type="dynamic_backend_mode"}."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from authenticator.mapping.sources.modes import parse_backend_mode_file
from tests.support.processes import Webhook
from tests.support.sts_standin import StsStandIn
from tests.support.tokens import WEBHOOK_CLUSTER, mint_token

ACCOUNT = "111122223333"
ALICE = ("AKIAALICE00000000KEY", (ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/alice", "AIDAALICE0000000001"))
BOB = ("AKIABOB0000000000KEY", (ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/bob", "AIDABOB000000000001"))


def _write(path: Path, doc: object) -> None:
    # Replaced at once, as a ConfigMap volume or a careful writer does: never read half-written.
    scratch = path.with_suffix(".tmp")
    scratch.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    os.replace(scratch, path)


class Cluster:
    def __init__(self, server: Webhook) -> None:
        self.server = server

    def username(self, key: str) -> str | None:
        """The username ``key``'s identity gets, or None when denied."""
        response = self.server.review(mint_token(access_key_id=key))
        assert response.status_code in (200, 403), response.text
        user = response.json()["status"].get("user")
        return user["username"] if user else None

    def e2e(self) -> tuple[float, float]:
        """(count, sum) of dynamic_e2e_latency_seconds{type="dynamic_backend_mode"}."""
        text = self.server.client.get("/metrics").text
        found = dict(
            re.findall(
                r'^aws_iam_authenticator_dynamic_e2e_latency_seconds_(count|sum)\{type="dynamic_backend_mode"\} (\S+)$',
                text,
                re.M,
            )
        )
        return float(found.get("count", 0)), float(found.get("sum", 0))


@pytest.fixture
def sts(tmp_path: Path) -> Iterator[StsStandIn]:
    with StsStandIn(tmp_path, dict([ALICE, BOB])) as standin:
        yield standin


def _config(tmp_path: Path, sts: StsStandIn, *, dynamic_file: bool = True) -> Path:
    """MountedFile maps alice and bob (``*-file``), the DynamicFile maps alice (``alice-dynamic``);
    backendMode is MountedFile alone."""
    dynamic = tmp_path / "dynamic.json"
    _write(dynamic, {"mapUsers": [{"userarn": ALICE[1][1], "username": "alice-dynamic", "groups": []}]})
    text = (
        f"clusterID: {WEBHOOK_CLUSTER}\n"
        "server:\n"
        f"  stsEndpointOverride: {sts.url}\n"
        f"  stsCABundle: {sts.ca_path}\n"
        f"  mapUsers: [{{userarn: '{ALICE[1][1]}', username: alice-file}},\n"
        f"             {{userarn: '{BOB[1][1]}', username: bob-file}}]\n"
        "  backendMode: [MountedFile]\n"
        f"  dynamicBackendModePath: {tmp_path / 'modes.json'}\n"
    )
    if dynamic_file:
        text += f"  dynamicfilepath: {dynamic}\n"
    config = tmp_path / "config.yaml"
    config.write_text(text)
    return config


def test_the_chain_follows_the_file_without_a_restart(tmp_path: Path, sts: StsStandIn) -> None:
    modes = tmp_path / "modes.json"
    with Webhook(_config(tmp_path, sts), tmp_path / "state") as server:
        cluster = Cluster(server)
        # No file: backendMode.
        assert (cluster.username(ALICE[0]), cluster.username(BOB[0])) == ("alice-file", "bob-file")

        # A mode backendMode does not list, first; keys in any case, as Go's decoder reads them.
        _write(
            modes,
            {"BACKENDMODE": "DynamicFile MountedFile", "lastUpdatedDateTime": str(int(time.time())), "version": "1"},
        )
        server.wait_for("backend modes switched from MountedFile to DynamicFile MountedFile")
        assert (cluster.username(ALICE[0]), cluster.username(BOB[0])) == ("alice-dynamic", "bob-file")
        assert cluster.e2e()[0] == 0  # the first load is the start, not a change upstream

        # A bad file keeps the last good chain, and says so.
        failures_before = server.metric("dynamicfile_failures_total")
        _write(modes, {"backendMode": "DynamicFile Nope", "LastUpdatedDateTime": "1", "Version": "2"})
        server.wait_for("keeping backend modes DynamicFile MountedFile")
        assert (cluster.username(ALICE[0]), cluster.username(BOB[0])) == ("alice-dynamic", "bob-file")
        ready = server.client.get("/readyz")
        assert ready.status_code == 200
        assert "dynamicBackendModePath file:" in ready.text and "unknown backend mode 'Nope'" in ready.text
        assert "serving the last good value" in ready.text
        assert server.metric("dynamicfile_failures_total") > failures_before

        # The next good file applies, and its latency is observed.
        _write(modes, {"backendMode": "DynamicFile", "LastUpdatedDateTime": str(int(time.time()) - 5), "Version": "3"})
        server.wait_for("backend modes switched from DynamicFile MountedFile to DynamicFile")
        assert (cluster.username(ALICE[0]), cluster.username(BOB[0])) == ("alice-dynamic", None)
        count, seconds = cluster.e2e()
        assert count == 1 and seconds >= 5
        assert server.client.get("/readyz").text == "ok"
        assert server.metric("dynamic_file_only") == 1

        # Deleted: backendMode again.
        modes.unlink()
        server.wait_for("does not exist; serving the configured backend modes")
        assert (cluster.username(ALICE[0]), cluster.username(BOB[0])) == ("alice-file", "bob-file")
        assert (server.metric("dynamic_file_only"), server.metric("dynamic_file_enabled")) == (0, 0)


def test_a_file_valid_at_start_is_served_from_the_start(tmp_path: Path, sts: StsStandIn) -> None:
    _write(tmp_path / "modes.json", {"backendMode": "DynamicFile", "LastUpdatedDateTime": "1700000000"})
    with Webhook(_config(tmp_path, sts), tmp_path / "state") as server:
        cluster = Cluster(server)
        assert (cluster.username(ALICE[0]), cluster.username(BOB[0])) == ("alice-dynamic", None)
        assert cluster.e2e()[0] == 0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"backendMode": "DynamicFile"}', "DynamicFile source: backend mode DynamicFile needs server.dynamicfilepath"),
        ('{"backendMode": ""}', "no backend mode given"),
        ('{"backendMode": ["MountedFile"]}', "backendMode must be a string"),
        ("{not json", "not valid JSON"),
    ],
)
def test_a_bad_file_at_start_serves_backend_mode_and_says_why(
    tmp_path: Path, sts: StsStandIn, text: str, reason: str
) -> None:
    _write(tmp_path / "modes.json", text)
    with Webhook(_config(tmp_path, sts, dynamic_file=False), tmp_path / "state") as server:
        cluster = Cluster(server)
        assert (cluster.username(ALICE[0]), cluster.username(BOB[0])) == ("alice-file", "bob-file")
        ready = server.client.get("/readyz")
        assert ready.status_code == 200
        assert f"dynamicBackendModePath file: {tmp_path / 'modes.json'}: {reason}" in ready.text


@pytest.mark.parametrize(
    ("text", "modes", "version"),
    [
        ('{"backendMode": "MountedFile EKSConfigMap", "Version": "3"}', ("MountedFile", "EKSConfigMap"), "3"),
        # Go's decoder: any case; of two spellings of one key, the last one wins; null leaves it empty
        (
            '{"backendmode": "CRD", "BackendMode": "File  ConfigMap", "version": null}',
            ("MountedFile", "EKSConfigMap"),
            "",
        ),
    ],
)
def test_the_file_is_read_as_the_reference_reads_it(text: str, modes: tuple[str, ...], version: str) -> None:
    parsed = parse_backend_mode_file(text)
    assert (parsed.modes, parsed.version) == (modes, version)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"backendMode": "MountedFile MountedFile"}', "listed twice"),
        ('{"Version": "1"}', "no backend mode given"),
        ('{"backendMode": "MountedFile", "LastUpdatedDateTime": 1700000000}', "LastUpdatedDateTime must be a string"),
        ("[]", "not a JSON object"),
    ],
)
def test_what_the_reference_would_not_switch_to(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_backend_mode_file(text)
