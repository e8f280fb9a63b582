"""--backend-mode parsing and building sources from the typed server config; chain order across real sources."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from authenticator.mapping.chain import MappingChain, MappingDenied, reserved_prefixes_from_config
from authenticator.mapping.sources.configmap import EKSConfigMapSource
from authenticator.mapping.sources.crd import CRDSource
from authenticator.mapping.sources.dynamicfile import DynamicFileSource
from authenticator.mapping.sources.file import MountedFileSource
from authenticator.mapping.sources.modes import normalize_backend_modes
from authenticator.server.composition import build_sources
from authenticator.server.config import ConfigError, ServerConfig
from tests.support.identities import role_identity, user_identity
from tests.support.kube_apiserver import CONFIGMAPS_KUBE_SYSTEM, KubeApiServer

ACCOUNT = "111122223333"


def _config(**fields: object) -> ServerConfig:
    return ServerConfig(cluster_id="factory-test", **fields)  # type: ignore[arg-type]


def test_normalize_backend_modes(caplog: pytest.LogCaptureFixture) -> None:
    assert normalize_backend_modes("MountedFile") == ["MountedFile"]
    assert normalize_backend_modes(" EKSConfigMap , CRD,DynamicFile ") == ["EKSConfigMap", "CRD", "DynamicFile"]
    assert normalize_backend_modes(["CRD", "MountedFile,DynamicFile"]) == ["CRD", "MountedFile", "DynamicFile"]
    with caplog.at_level(logging.WARNING):
        assert normalize_backend_modes("File,ConfigMap") == ["MountedFile", "EKSConfigMap"]
    assert sum("deprecated" in r.getMessage() for r in caplog.records) == 2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("MountedFile,Nope", "unknown backend mode 'Nope'"),
        ("MountedFile,File", "listed twice"),
        ("CRD,crd", "listed twice"),
        ("", "no backend mode"),
        ([], "no backend mode"),
    ],
)
def test_bad_backend_modes_are_one_line_errors(value: str | list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message) as err:
        normalize_backend_modes(value)
    assert "\n" not in str(err.value)


def test_build_each_source(tmp_path: Path, kubeconfig: Path) -> None:
    dynamic = tmp_path / "d.json"
    dynamic.write_text(json.dumps({"mapUsers": [{"userarn": f"arn:aws:iam::{ACCOUNT}:user/a", "username": "a"}]}))
    config = _config(
        backend_mode="MountedFile,ConfigMap,CRD,DynamicFile",
        map_roles=[{"rolearn": f"arn:aws:iam::{ACCOUNT}:role/r", "username": "r"}],
        dynamic_file_path=str(dynamic),
        kubeconfig=str(kubeconfig),
    )
    sources = build_sources(config)
    kinds = [type(s) for s in sources]
    assert kinds == [MountedFileSource, EKSConfigMapSource, CRDSource, DynamicFileSource]
    assert [s.name for s in sources] == ["MountedFile", "EKSConfigMap", "CRD", "DynamicFile"]
    configmap, dynamic_source = sources[1], sources[3]
    assert isinstance(configmap, EKSConfigMapSource) and isinstance(dynamic_source, DynamicFileSource)
    assert configmap.watcher is not None and not configmap.ready  # not started yet
    assert [u.userarn for u in dynamic_source.snapshot().users] == [f"arn:aws:iam::{ACCOUNT}:user/a"]
    assert not dynamic_source.userid_strict
    [strict] = build_sources(
        _config(backend_mode="DynamicFile", dynamic_file_path=str(dynamic), dynamic_file_user_id_strict=True)
    )
    assert isinstance(strict, DynamicFileSource) and strict.userid_strict


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"backend_mode": "DynamicFile"}, "DynamicFile source: backend mode DynamicFile needs server.dynamicfilepath"),
        ({"aws_auth_file": "missing.yaml"}, "MountedFile source: server.awsAuthFile: cannot read missing.yaml"),
        ({"map_roles": [{"username": "no-arn"}]}, "MountedFile source: invalid mapping: server.mapRoles[0]"),
        ({"backend_mode": "CRD", "kubeconfig": "nope"}, "CRD source: kubeconfig nope does not exist"),
    ],
)
def test_unusable_source_config_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fields: dict[str, object], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as err:
        build_sources(_config(**fields))
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_chain_order_and_reserved_prefixes_across_real_sources(
    standin: KubeApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    """An account allowed by the first source beats an explicit mapping in the second (the reference's
    rule); reserved prefixes apply to the source that matched."""
    standin.apply(
        CONFIGMAPS_KUBE_SYSTEM,
        "aws-auth",
        {
            "data": {
                "mapAccounts": f"- '{ACCOUNT}'\n",
                "mapRoles": "- rolearn: arn:aws:iam::222233334444:role/ops\n  username: system:ops\n",
            }
        },
    )
    dynamic = tmp_path / "d.json"
    dynamic.write_text(
        json.dumps(
            {
                "mapUsers": [{"userarn": f"arn:aws:iam::{ACCOUNT}:user/alice", "username": "alice"}],
                "mapRoles": [{"rolearn": "arn:aws:iam::555566667777:role/dev", "username": "system:dev"}],
            }
        )
    )
    sources = build_sources(
        _config(
            backend_mode=["EKSConfigMap", "DynamicFile"], dynamic_file_path=str(dynamic), kubeconfig=str(kubeconfig)
        )
    )
    configmap = sources[0]
    assert isinstance(configmap, EKSConfigMapSource)
    configmap.start_thread()
    try:
        assert configmap.wait_until(lambda: configmap.ready, 10)
        reserved = reserved_prefixes_from_config(
            [{"backendMode": "DynamicFile", "usernamePrefixReserveList": ["system:"]}]
        )
        chain = MappingChain(sources, reserved_prefixes=reserved)
        alice = chain.resolve(user_identity("alice", account=ACCOUNT))
        assert alice is not None and (alice.source, alice.kind) == ("EKSConfigMap", "account")

        # system: is reserved for DynamicFile only.
        ops = asyncio.run(chain.map(role_identity("ops", account="222233334444")))
        assert ops.username == "system:ops"
        with pytest.raises(MappingDenied) as denied:
            asyncio.run(chain.map(role_identity("dev", account="555566667777")))
        assert denied.value.kind == "reserved_prefix"
    finally:
        configmap.stop_thread()
