"""KUBERNETES_EXEC_INFO in, ExecCredential out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from client_plugin.errors import PluginError
from client_plugin.exec_credential import API_V1, API_V1BETA1, format_exec_credential, parse_exec_info
from tests.support.plugin import KUBECTL_EXEC_INFO


def _info(version: str, interactive: bool = False) -> str:
    # kubectl ends the value with a newline.
    spec = {"interactive": interactive}
    return json.dumps({"kind": "ExecCredential", "apiVersion": version, "spec": spec}) + "\n"


@pytest.mark.parametrize("version", [API_V1BETA1, API_V1])
def test_supported_versions_are_echoed(version: str) -> None:
    info = parse_exec_info(_info(version, interactive=True))
    assert info.api_version == version
    assert info.interactive is True
    assert info.warning is None


def test_absent_means_v1beta1_and_a_human_at_the_terminal() -> None:
    info = parse_exec_info(None)
    assert (info.api_version, info.interactive, info.warning) == (API_V1BETA1, True, None)


@pytest.mark.parametrize("version", ["client.authentication.k8s.io/v1alpha1", "example.com/v9", ""])
def test_unsupported_versions_fall_back_with_a_warning(version: str) -> None:
    info = parse_exec_info(_info(version))
    assert info.api_version == API_V1BETA1
    assert info.warning is not None and API_V1BETA1 in info.warning


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"text"'])
def test_malformed_exec_info_is_an_error(raw: str) -> None:
    with pytest.raises(PluginError, match="KUBERNETES_EXEC_INFO"):
        parse_exec_info(raw)


def _by_json(raw: str) -> tuple[str, bool]:
    info = json.loads(raw)
    return info["apiVersion"], info["spec"]["interactive"]


@pytest.mark.parametrize("raw", KUBECTL_EXEC_INFO)
@pytest.mark.parametrize("end", ["\n", ""])
def test_kubectl_exec_info_is_read_as_json_reads_it(raw: str, end: str) -> None:
    info = parse_exec_info(raw + end)
    assert (info.api_version, info.interactive, info.warning) == (*_by_json(raw), None)


@pytest.mark.parametrize("raw", KUBECTL_EXEC_INFO)
def test_other_spellings_of_exec_info_go_through_json(raw: str) -> None:
    spaced = json.dumps(json.loads(raw), indent=1)
    with_cluster = json.dumps({**json.loads(raw), "spec": {**json.loads(raw)["spec"], "cluster": {"server": "x"}}})
    for other in (spaced, with_cluster, raw + "\n\n", " " + raw):
        info = parse_exec_info(other)
        assert (info.api_version, info.interactive, info.warning) == (*_by_json(raw), None)
    with pytest.raises(PluginError, match="KUBERNETES_EXEC_INFO"):
        parse_exec_info(raw[:-1])


@settings(max_examples=300, deadline=None)
@given(
    api_version=st.sampled_from([API_V1BETA1, API_V1]),
    token=st.text(max_size=40) | st.from_regex(r"k8s-aws-v1\.[A-Za-z0-9_-]{0,60}", fullmatch=True),
    expires=st.integers(0, 2**33),
)
def test_exec_credential_is_json_for_any_token(api_version: str, token: str, expires: int) -> None:
    document = json.loads(format_exec_credential(api_version, token, expires))
    stamp = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert document == {
        "kind": "ExecCredential",
        "apiVersion": api_version,
        "spec": {},
        "status": {"expirationTimestamp": stamp, "token": token},
    }


def test_exec_credential_shape_and_zulu_timestamp() -> None:
    expires = datetime(2026, 11, 26, 5, 31, 32, tzinfo=timezone(timedelta(hours=2)))
    document = json.loads(format_exec_credential(API_V1, "k8s-aws-v1.abc", expires.timestamp() + 0.75))
    assert document == {
        "kind": "ExecCredential",
        "apiVersion": API_V1,
        "spec": {},
        "status": {"expirationTimestamp": "2026-11-26T03:31:32Z", "token": "k8s-aws-v1.abc"},
    }
    assert datetime.fromisoformat(document["status"]["expirationTimestamp"]).tzinfo is not None
    assert datetime.fromisoformat(document["status"]["expirationTimestamp"]) == expires.astimezone(UTC)
