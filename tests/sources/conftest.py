"""Fixtures for the cluster-source tests: the kube-apiserver stand-in and a real kubernetes client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kube_apiserver import ApiServerStandIn
from kubernetes import client as k8s_client

from authenticator.identity import Identity
from authenticator.kube import load_api_client


@pytest.fixture
def standin() -> Iterator[ApiServerStandIn]:
    with ApiServerStandIn() as server:
        yield server


@pytest.fixture
def kubeconfig(standin: ApiServerStandIn, tmp_path: Path) -> Path:
    return standin.write_kubeconfig(tmp_path)


@pytest.fixture
def api_client(kubeconfig: Path) -> Iterator[k8s_client.ApiClient]:
    api = load_api_client(kubeconfig=str(kubeconfig))
    yield api
    api.close()


def role_identity(account: str, role: str, session: str = "s1") -> Identity:
    return Identity(
        arn=f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        canonical_arn=f"arn:aws:iam::{account}:role/{role}",
        account_id=account,
        user_id="AROAEXAMPLE",
        session_name=session,
        access_key_id="ASIAEXAMPLE",
        sts_endpoint="sts.us-east-1.amazonaws.com",
    )


def user_identity(account: str, user: str, user_id: str = "AIDAEXAMPLE") -> Identity:
    arn = f"arn:aws:iam::{account}:user/{user}"
    return Identity(
        arn=arn,
        canonical_arn=arn,
        account_id=account,
        user_id=user_id,
        session_name="",
        access_key_id="AKIAEXAMPLE",
        sts_endpoint="sts.us-east-1.amazonaws.com",
    )
