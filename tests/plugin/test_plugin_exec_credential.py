"""KUBERNETES_EXEC_INFO in, ExecCredential out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from client_plugin.errors import PluginError
from client_plugin.exec_credential import API_V1, API_V1BETA1, format_exec_credential, parse_exec_info


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


def test_exec_credential_shape_and_zulu_timestamp() -> None:
    expires = datetime(2026, 11, 26, 5, 31, 32, tzinfo=timezone(timedelta(hours=2)))
    document = json.loads(format_exec_credential(API_V1, "k8s-aws-v1.abc", expires))
    assert document == {
        "kind": "ExecCredential",
        "apiVersion": API_V1,
        "spec": {},
        "status": {"expirationTimestamp": "2026-11-26T03:31:32Z", "token": "k8s-aws-v1.abc"},
    }
    assert datetime.fromisoformat(document["status"]["expirationTimestamp"]).tzinfo is not None
    assert datetime.fromisoformat(document["status"]["expirationTimestamp"]) == expires.astimezone(UTC)
