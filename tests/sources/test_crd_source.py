"""CRD source (IAMIdentityMapping) against the HTTPS kube-apiserver stand-in, through the real client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s_client

from authenticator.kube import Backoff
from authenticator.mapping.chain import MappingChain
from authenticator.mapping.model import RoleMapping, UserMapping
from authenticator.mapping.sources.crd import CRD_GROUP, CRD_PLURAL, CRD_VERSION, CRDSource, mapping_from_object
from tests.support.identities import role_identity, user_identity
from tests.support.kube_apiserver import IAM_IDENTITY_MAPPINGS, KubeApiServer

WAIT = 10.0
ACCOUNT = "111122223333"


def spec(arn: str, username: str, groups: list[str] | None = None) -> dict[str, Any]:
    return {"spec": {"arn": arn, "username": username, "groups": groups or []}}


@pytest.fixture
def source(api_client: k8s_client.ApiClient) -> Iterator[CRDSource]:
    src = CRDSource(api_client=api_client, backoff=Backoff(initial=0.02, maximum=0.2))
    yield src
    src.stop_thread()


def usernames(src: CRDSource) -> dict[str, str]:
    snap = src.snapshot()
    out = {r.rolearn or "": r.username for r in snap.roles}
    out.update({u.userarn: u.username for u in snap.users})
    return out


def test_add_modify_delete(standin: KubeApiServer, source: CRDSource) -> None:
    standin.apply(IAM_IDENTITY_MAPPINGS, "admins", spec(f"arn:aws:iam::{ACCOUNT}:role/admins", "admin", ["ops"]))
    source.start_thread()
    assert source.wait_until(lambda: source.ready, WAIT)
    chain = MappingChain([source])
    match = chain.resolve(role_identity("admins", account=ACCOUNT))
    assert match is not None and (match.kind, match.username, match.groups) == ("role", "admin", ("ops",))
    assert match.source == "CRD"
    assert standin.wait_for_watches(1)

    # An assumed-role ARN in spec.arn is canonicalised to its role (no controller needed).
    standin.apply(IAM_IDENTITY_MAPPINGS, "ci", spec(f"arn:aws:sts::{ACCOUNT}:assumed-role/ci/build-7", "ci"))
    standin.apply(IAM_IDENTITY_MAPPINGS, "alice", spec(f"arn:aws:iam::{ACCOUNT}:user/alice", "alice", ["devs"]))
    assert source.wait_until(lambda: len(usernames(source)) == 3, WAIT)
    assert (match := chain.resolve(role_identity("ci", "other-session", account=ACCOUNT))) is not None
    assert match.username == "ci"
    assert (match := chain.resolve(user_identity("alice", account=ACCOUNT))) is not None and match.kind == "user"

    standin.apply(IAM_IDENTITY_MAPPINGS, "alice", spec(f"arn:aws:iam::{ACCOUNT}:user/alice", "alice2", ["devs"]))
    assert source.wait_until(lambda: usernames(source).get(f"arn:aws:iam::{ACCOUNT}:user/alice") == "alice2", WAIT)

    standin.delete(IAM_IDENTITY_MAPPINGS, "admins")
    assert source.wait_until(lambda: chain.resolve(role_identity("admins", account=ACCOUNT)) is None, WAIT)
    assert (match := chain.resolve(user_identity("alice", account=ACCOUNT))) is not None
    assert match.username == "alice2"


def test_invalid_arn_is_skipped_and_reported(standin: KubeApiServer, source: CRDSource) -> None:
    standin.apply(IAM_IDENTITY_MAPPINGS, "bad", spec("arn:aws:s3:::bucket", "x"))
    standin.apply(IAM_IDENTITY_MAPPINGS, "good", spec(f"arn:aws:iam::{ACCOUNT}:user/bob", "bob"))
    source.start_thread()
    assert source.wait_until(lambda: source.ready, WAIT)
    assert usernames(source) == {f"arn:aws:iam::{ACCOUNT}:user/bob": "bob"}
    assert list(source.status().failures) == ["IAMIdentityMapping/bad"]


def test_watch_resumes_after_drop_and_relists_after_410(standin: KubeApiServer, source: CRDSource) -> None:
    standin.apply(IAM_IDENTITY_MAPPINGS, "a", spec(f"arn:aws:iam::{ACCOUNT}:user/a", "a"))
    source.start_thread()
    assert source.wait_until(lambda: source.ready, WAIT)
    assert standin.wait_for_watches(1)

    standin.hold_watches()
    standin.drop_watches()
    assert source.watcher.wait_for(lambda: source.watcher.failures >= 1, WAIT)
    standin.apply(IAM_IDENTITY_MAPPINGS, "b", spec(f"arn:aws:iam::{ACCOUNT}:user/b", "b"))
    standin.hold_watches(False)
    assert source.wait_until(lambda: len(usernames(source)) == 2, WAIT)
    assert source.watcher.lists == 1

    assert standin.wait_for_watches(1)
    standin.hold_watches()
    standin.drop_watches()
    assert source.watcher.wait_for(lambda: source.watcher.failures >= 2, WAIT)
    standin.delete(IAM_IDENTITY_MAPPINGS, "a")
    standin.compact()
    standin.hold_watches(False)
    assert source.wait_until(lambda: set(usernames(source).values()) == {"b"}, WAIT)
    assert source.watcher.wait_for(lambda: source.watcher.lists == 2, WAIT)


def test_mapping_from_object() -> None:
    role = mapping_from_object(spec("arn:aws:iam::111122223333:role/x", "u", ["g", 3]))  # type: ignore[list-item]
    assert role == RoleMapping(username="u", groups=("g",), rolearn="arn:aws:iam::111122223333:role/x")
    user = mapping_from_object(spec("arn:aws:iam::111122223333:user/y", "y"))
    assert isinstance(user, UserMapping) and user.userarn == "arn:aws:iam::111122223333:user/y"
    with pytest.raises(ValueError, match=r"spec\.arn"):
        mapping_from_object({"spec": {"username": "x"}})
    with pytest.raises(ValueError):
        mapping_from_object(spec("not-an-arn", "x"))


def test_manifest_matches_what_the_source_reads() -> None:
    docs = list(yaml.safe_load_all((Path(__file__).parents[2] / "config" / "deploy" / "base" / "crd.yaml").read_text()))
    crd = next(d for d in docs if d["kind"] == "CustomResourceDefinition")
    assert crd["spec"]["group"] == CRD_GROUP
    assert crd["spec"]["scope"] == "Cluster"
    assert crd["spec"]["names"]["plural"] == CRD_PLURAL
    assert crd["metadata"]["name"] == f"{CRD_PLURAL}.{CRD_GROUP}"
    version = crd["spec"]["versions"][0]
    assert version["name"] == CRD_VERSION
    props = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    assert set(props) == {"arn", "username", "groups"}
