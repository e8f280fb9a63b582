"""Two security fixes of the reference, checked against our sources (docs/mapping.md §3, §4).

- DynamicFile userid strict mode with a malformed ARN (reference #1046): the reference discarded
  the error of its ARN parser, so an entry with the caller's userid and an unparsable
  rolearn/userarn skipped the ARN check and mapped (groups included). Here such an entry never
  maps: the entry parser rejects the file, or the lookup compares the unparsed text and denies.
- reservedPrefixConfig honoured by every backend (reference #1047): the reference's EKSConfigMap
  and CRD mappers ignored their configured prefixes. Here the chain enforces them for whichever
  source matched, so every backend mode is checked through the server's own wiring.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from authenticator.identity import Identity
from authenticator.mapping.chain import MappingChain, MappingDenied
from authenticator.mapping.sources._watched import WatchedSource
from authenticator.mapping.sources.dynamicfile import DynamicFileSource
from authenticator.server.composition import build_sources
from authenticator.server.config import ServerConfig
from tests.support.identities import role_identity, user_identity
from tests.support.kube_apiserver import CONFIGMAPS_KUBE_SYSTEM, IAM_IDENTITY_MAPPINGS, KubeApiServer

ACCOUNT = "111122223333"
WAIT = 10.0

# ARNs the reference's arn.StripPath fails on; the entry carries the caller's userid.
MALFORMED = [
    "not-an-arn",
    "arn:aws:iam",
    f"arn:aws:iam::{ACCOUNT}",
    f"arn:aws:iam::{ACCOUNT}:role",
    f"arn:aws:iam::{ACCOUNT}:",
    "arn:aws:iam::::",
    "arn:::::",
]


def _dynamic_file(path: Path, section: str, arn_key: str, arn: str, userid: str) -> None:
    good = {"userid": "AIDAGOOD", "username": "good", "groups": ["devs"]}
    good[arn_key] = f"arn:aws:iam::{ACCOUNT}:{'role' if arn_key == 'rolearn' else 'user'}/good"
    bad = {arn_key: arn, "userid": userid, "username": "intruder", "groups": ["system:masters"]}
    path.write_text(json.dumps({"version": "1", section: [good, bad]}))


def _with_user_id(identity: Identity, user_id: str) -> Identity:
    return replace(identity, user_id=user_id)


@pytest.mark.parametrize("arn", MALFORMED)
@pytest.mark.parametrize(
    ("section", "arn_key", "caller"),
    [
        ("mapRoles", "rolearn", role_identity("admins", account=ACCOUNT)),
        ("mapUsers", "userarn", user_identity("alice", account=ACCOUNT)),
    ],
)
def test_strict_userid_entry_with_malformed_arn_never_maps(
    tmp_path: Path, section: str, arn_key: str, caller: Identity, arn: str
) -> None:
    path = tmp_path / "m.json"
    _dynamic_file(path, section, arn_key, arn, "AIDABAD")
    source = DynamicFileSource(path=str(path), userid_strict=True)
    chain = MappingChain([source])
    intruder = _with_user_id(caller, "AIDABAD")

    assert source.lookup(intruder) is None
    assert chain.resolve(intruder) is None
    with pytest.raises(MappingDenied) as denied:
        asyncio.run(chain.map(intruder))
    assert denied.value.kind == "unmapped"
    # Either way is safe; say which one we take: the bad entry spoils the whole file (all or
    # nothing), or the file loads and only the bad entry is dead.
    good_name = "good"
    good_caller = _with_user_id(
        role_identity(good_name, account=ACCOUNT)
        if arn_key == "rolearn"
        else user_identity(good_name, account=ACCOUNT),
        "AIDAGOOD",
    )
    if source.ready:
        found = source.lookup(good_caller)
        assert found is not None and found[1].username == "good"
    else:
        assert source.status().failures  # rejected, and reported


def test_strict_userid_entry_with_valid_arn_still_needs_the_arn_to_agree(tmp_path: Path) -> None:
    """The control for the test above: the same file shape with a well-formed ARN maps the owner
    of that ARN only."""
    path = tmp_path / "m.json"
    _dynamic_file(path, "mapRoles", "rolearn", f"arn:aws:iam::{ACCOUNT}:role/team/admins", "AROAADMINS")
    source = DynamicFileSource(path=str(path), userid_strict=True)
    chain = MappingChain([source])
    mapped = asyncio.run(chain.map(_with_user_id(role_identity("admins", account=ACCOUNT), "AROAADMINS")))
    assert (mapped.username, mapped.groups) == ("intruder", ("system:masters",))
    assert chain.resolve(_with_user_id(role_identity("other", account=ACCOUNT), "AROAADMINS")) is None


# -- reservedPrefixConfig, every backend ----------------------------------------------------

MODES = ["MountedFile", "EKSConfigMap", "CRD", "DynamicFile"]
OPS_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ops"


def _provide(mode: str, username: str, standin: KubeApiServer, tmp_path: Path) -> dict[str, object]:
    """Put a mapping of OPS_ROLE -> ``username`` where backend ``mode`` reads it; the config fields
    that point the server at it."""
    if mode == "MountedFile":
        return {"map_roles": [{"rolearn": OPS_ROLE, "username": username, "groups": ["ops"]}]}
    if mode == "EKSConfigMap":
        entry = f"- rolearn: {OPS_ROLE}\n  username: '{username}'\n  groups: [ops]\n"
        standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", {"data": {"mapRoles": entry}})
        return {}
    if mode == "CRD":
        spec = {"arn": OPS_ROLE, "username": username, "groups": ["ops"]}
        standin.apply(IAM_IDENTITY_MAPPINGS, "ops", {"spec": spec})
        return {}
    dynamic = tmp_path / "d.json"
    dynamic.write_text(json.dumps({"mapRoles": [{"rolearn": OPS_ROLE, "username": username, "groups": ["ops"]}]}))
    return {"dynamic_file_path": str(dynamic)}


def _reserve(mode: str, *prefixes: str) -> list[dict[str, object]]:
    """``server.reservedPrefixConfig`` in the list form of docs/cli.md."""
    return [{"backendMode": mode, "usernamePrefixReserveList": list(prefixes)}]


@pytest.fixture
def started() -> Iterator[list[WatchedSource]]:
    watched: list[WatchedSource] = []
    yield watched
    for source in watched:
        source.stop_thread()


def _chain(
    mode: str,
    username: str,
    reserved: list[dict[str, object]],
    standin: KubeApiServer,
    kubeconfig: Path,
    tmp_path: Path,
    started: list[WatchedSource],
) -> MappingChain:
    fields: dict[str, object] = {
        "backend_mode": [mode],
        "kubeconfig": str(kubeconfig),
        "reserved_prefix_config": reserved,
        **_provide(mode, username, standin, tmp_path),
    }
    config = ServerConfig(cluster_id="reserved-test", **fields)  # type: ignore[arg-type]
    [source] = build_sources(config)
    if isinstance(source, WatchedSource):
        started.append(source)
        source.start_thread()
        assert source.wait_until(lambda: source.ready, WAIT)
    # As the server composes it (authenticator.server.composition.build_app).
    return MappingChain([source], reserved_prefixes=dict(config.reserved_prefix_config))


@pytest.mark.parametrize("mode", MODES)
def test_reserved_prefix_is_denied_by_every_backend(
    mode: str, standin: KubeApiServer, kubeconfig: Path, tmp_path: Path, started: list[WatchedSource]
) -> None:
    chain = _chain(mode, "system:ops", _reserve(mode, "system:", "eks:"), standin, kubeconfig, tmp_path, started)
    with pytest.raises(MappingDenied) as denied:
        asyncio.run(chain.map(role_identity("ops", account=ACCOUNT)))
    assert denied.value.kind == "reserved_prefix" and "'system:'" in denied.value.reason
    assert denied.value.match is not None and denied.value.match.source == mode


@pytest.mark.parametrize("mode", MODES)
def test_unreserved_username_maps_on_every_backend(
    mode: str, standin: KubeApiServer, kubeconfig: Path, tmp_path: Path, started: list[WatchedSource]
) -> None:
    """The control: the same mapping with a username outside the reserved prefixes maps."""
    chain = _chain(
        mode, "ops-{{SessionName}}", _reserve(mode, "system:", "eks:"), standin, kubeconfig, tmp_path, started
    )
    mapped = asyncio.run(chain.map(role_identity("ops", "jane", account=ACCOUNT)))
    assert (mapped.username, mapped.groups, mapped.match.source) == ("ops-jane", ("ops",), mode)


@pytest.mark.parametrize(("alias", "mode"), [("ConfigMap", "EKSConfigMap"), ("crd", "CRD")])
def test_reserved_prefix_by_mode_alias_reaches_the_backend(
    alias: str, mode: str, standin: KubeApiServer, kubeconfig: Path, tmp_path: Path, started: list[WatchedSource]
) -> None:
    """The backends the reference missed, configured by an alias or another spelling: a template
    that renders into the reserved prefix is denied too (the check is on the rendered name)."""
    chain = _chain(mode, "eks:{{SessionName}}", _reserve(alias, "eks:"), standin, kubeconfig, tmp_path, started)
    with pytest.raises(MappingDenied) as denied:
        asyncio.run(chain.map(role_identity("ops", "jane", account=ACCOUNT)))
    assert denied.value.kind == "reserved_prefix"
