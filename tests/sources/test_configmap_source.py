"""EKSConfigMap source against the HTTPS kube-apiserver stand-in, through the real kubernetes client."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s_client
from prometheus_client import REGISTRY

from authenticator.kube import Backoff
from authenticator.mapping.chain import MappingChain
from authenticator.mapping.sources.configmap import EKSConfigMapSource
from tests.support.identities import role_identity, user_identity
from tests.support.kube_apiserver import CONFIGMAPS_KUBE_SYSTEM, KubeApiServer

WAIT = 10.0  # bound on every wait; the changes normally land in milliseconds
FAST = Backoff(initial=0.02, maximum=0.2)

ADMIN_ROLE = "arn:aws:iam::111122223333:role/admins"
NODE_ROLE = "arn:aws:iam::111122223333:role/nodes"
ALICE = "arn:aws:iam::111122223333:user/alice"
BOB = "arn:aws:iam::111122223333:user/bob"


def aws_auth(map_roles: str = "", map_users: str = "", map_accounts: str = "") -> dict[str, Any]:
    data = {k: v for k, v in (("mapRoles", map_roles), ("mapUsers", map_users), ("mapAccounts", map_accounts)) if v}
    return {"data": data}


ROLES = f"""
- rolearn: {ADMIN_ROLE}
  username: admin:{{{{SessionName}}}}
  groups: [system:masters]
"""
USERS_ALICE = f"""
- userarn: {ALICE}
  username: alice
  groups: [devs]
"""
USERS_BOB = f"""
- userarn: {BOB}
  username: bob
  groups: [ops]
"""


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def source(api_client: k8s_client.ApiClient) -> Iterator[EKSConfigMapSource]:
    src = EKSConfigMapSource(api_client=api_client, backoff=FAST)
    yield src
    src.stop_thread()


def started(src: EKSConfigMapSource) -> EKSConfigMapSource:
    src.start_thread()
    assert src.wait_until(lambda: src.ready, WAIT)
    return src


def user_arns(src: EKSConfigMapSource) -> set[str]:
    return {u.userarn for u in src.snapshot().users}


def role_arns(src: EKSConfigMapSource) -> set[str]:
    return {r.rolearn for r in src.snapshot().roles if r.rolearn}


def test_not_ready_until_the_first_successful_list(standin: KubeApiServer, source: EKSConfigMapSource) -> None:
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", aws_auth(ROLES))
    standin.token = "not-yet"  # every request is 401
    before = metric("aws_iam_authenticator_configmap_watch_failures_total")
    source.start_thread()
    assert source.watcher.wait_for(lambda: source.watcher.failures >= 2, WAIT)
    assert not source.ready
    assert source.snapshot().roles == ()
    assert metric("aws_iam_authenticator_configmap_watch_failures_total") >= before + 2
    standin.token = "stand-in-token"
    assert source.wait_until(lambda: source.ready, WAIT)
    assert role_arns(source) == {ADMIN_ROLE}


def test_list_then_add_modify_delete(
    standin: KubeApiServer, source: EKSConfigMapSource, caplog: pytest.LogCaptureFixture
) -> None:
    started(source)
    assert source.exists is False and source.snapshot().roles == ()  # no ConfigMap: ready and empty
    standin.wait_for_watches(1)

    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", aws_auth(ROLES, USERS_ALICE, "- '444455556666'"))
    assert source.wait_until(lambda: user_arns(source) == {ALICE}, WAIT)
    assert role_arns(source) == {ADMIN_ROLE}
    assert source.snapshot().accounts == ("444455556666",)

    # The chain maps through this source.
    chain = MappingChain([source])
    match = chain.resolve(role_identity("admins", account="111122223333"))
    assert match is not None and match.username == "admin:{{SessionName}}" and match.source == "EKSConfigMap"

    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", aws_auth(ROLES, USERS_BOB))
    assert source.wait_until(lambda: user_arns(source) == {BOB}, WAIT)
    assert chain.resolve(user_identity("alice", account="111122223333")) is None
    assert (match := chain.resolve(user_identity("bob", account="111122223333"))) is not None
    assert match.username == "bob"

    # Another ConfigMap in kube-system is not ours.
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "other", aws_auth(map_users=USERS_ALICE))
    generation = source.generation
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", aws_auth(ROLES, USERS_BOB + USERS_ALICE))
    assert source.wait_until(lambda: source.generation > generation, WAIT)
    assert user_arns(source) == {ALICE, BOB}

    with caplog.at_level(logging.ERROR, logger="authenticator.mapping"):
        standin.delete(CONFIGMAPS_KUBE_SYSTEM, "aws-auth")
        assert source.wait_until(lambda: source.snapshot().roles == () and source.snapshot().users == (), WAIT)
    assert source.exists is False
    assert any("DELETED" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    assert "configmap" in source.status().failures
    assert chain.resolve(role_identity("admins", account="111122223333")) is None


def test_broken_map_roles_keeps_old_roles_and_applies_new_users(
    standin: KubeApiServer, source: EKSConfigMapSource
) -> None:
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", aws_auth(ROLES, USERS_ALICE))
    started(source)
    assert role_arns(source) == {ADMIN_ROLE} and user_arns(source) == {ALICE}
    failures = metric("aws_iam_authenticator_mapping_section_failures_total", source="EKSConfigMap", section="mapRoles")

    broken_roles = ROLES + f"- rolearn: {NODE_ROLE}\n  username: [unclosed\n"
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", aws_auth(broken_roles, USERS_BOB))
    assert source.wait_until(lambda: user_arns(source) == {BOB}, WAIT)
    assert role_arns(source) == {ADMIN_ROLE}  # the last good mapRoles
    assert "mapRoles" in source.status().failures
    after = metric("aws_iam_authenticator_mapping_section_failures_total", source="EKSConfigMap", section="mapRoles")
    assert after == failures + 1

    fixed_roles = ROLES + f"- rolearn: {NODE_ROLE}\n  username: node\n"
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", aws_auth(fixed_roles, USERS_BOB))
    assert source.wait_until(lambda: role_arns(source) == {ADMIN_ROLE, NODE_ROLE}, WAIT)
    assert source.status().failures == {}


def test_watch_resumes_after_a_dropped_connection(standin: KubeApiServer, source: EKSConfigMapSource) -> None:
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", aws_auth(ROLES, USERS_ALICE))
    started(source)
    assert standin.wait_for_watches(1)
    failures = metric("aws_iam_authenticator_configmap_watch_failures_total")

    standin.hold_watches()  # the reconnecting watch waits, so the change below happens while we are away
    standin.drop_watches()
    assert source.watcher.wait_for(lambda: source.watcher.failures >= 1, WAIT)
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", aws_auth(ROLES, USERS_BOB))
    assert user_arns(source) == {ALICE}
    standin.hold_watches(False)
    assert source.wait_until(lambda: user_arns(source) == {BOB}, WAIT)
    assert metric("aws_iam_authenticator_configmap_watch_failures_total") >= failures + 1
    assert source.watcher.lists == 1  # resumed from its resourceVersion, no relist
    watches = [q for m, _, q in standin.requests if q.get("watch") == "true"]
    assert len(watches) >= 2 and all(q.get("resourceVersion") for q in watches)


@pytest.mark.parametrize("as_http_status", [False, True], ids=["error-event", "http-410"])
def test_watch_relists_after_410_gone(standin: KubeApiServer, source: EKSConfigMapSource, as_http_status: bool) -> None:
    standin.gone_as_http_status = as_http_status
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", aws_auth(ROLES, USERS_ALICE))
    started(source)
    assert standin.wait_for_watches(1)

    # History is compacted while the watch is down: the old resourceVersion is gone for good.
    standin.hold_watches()
    standin.drop_watches()
    assert source.watcher.wait_for(lambda: source.watcher.failures >= 1, WAIT)
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", aws_auth(ROLES, USERS_BOB))
    standin.compact()
    standin.hold_watches(False)
    assert source.wait_until(lambda: user_arns(source) == {BOB}, WAIT)
    assert source.watcher.wait_for(lambda: source.watcher.lists >= 2, WAIT)
    assert source.watcher.lists == 2
    # And the new watch works.
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", aws_auth(ROLES, USERS_ALICE))
    assert source.wait_until(lambda: user_arns(source) == {ALICE}, WAIT)


def test_stop_ends_the_watch_thread(standin: KubeApiServer, source: EKSConfigMapSource) -> None:
    started(source)
    assert standin.wait_for_watches(1)
    source.stop_thread()
    assert not any(t.name == f"watch-{source.watcher.name}" for t in threading.enumerate())
