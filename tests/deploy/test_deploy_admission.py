"""The aws-auth guard's ValidatingWebhookConfiguration in config/deploy (docs/admission.md):
rendered by the real kubectl in both overlays, valid against the Kubernetes schemas, the object
the server writes (less its caBundle), pointed at the URL of each overlay's webhook."""

from __future__ import annotations

import copy
from typing import Any

import kubernetes_validate
import pytest
import yaml

from authenticator.admission.webhook_config import FILENAME, NAME, guard_url, webhook_configuration
from tests.support.deploy import DEPLOY, OVERLAYS, one, render

WORKLOADS = {"overlays/daemonset": "DaemonSet", "overlays/deployment": "Deployment"}


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {k: render(k) for k in OVERLAYS}


def _server_config(objects: list[dict[str, Any]]) -> dict[str, Any]:
    configmap = one(objects, "ConfigMap", "eks-iam-authenticator")
    config: dict[str, Any] = yaml.safe_load(configmap["data"]["config.yaml"])["server"]
    return config


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_has_the_guard_and_enables_it(rendered: dict[str, list[dict[str, Any]]], overlay: str) -> None:
    objects = rendered[overlay]
    hook_config = one(objects, "ValidatingWebhookConfiguration", NAME)
    config = _server_config(objects)
    assert config["admission"] == {"enabled": True}
    (hook,) = hook_config["webhooks"]
    # What the server writes beside the kubeconfig, for this overlay's hostname and port,
    # without the caBundle only the server knows.
    expected = webhook_configuration(guard_url(config["hostname"], config["port"]))
    assert hook == expected["webhooks"][0]
    assert "caBundle" not in hook["clientConfig"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_guard_fails_open_and_sees_only_aws_auth(rendered: dict[str, list[dict[str, Any]]], overlay: str) -> None:
    (hook,) = one(rendered[overlay], "ValidatingWebhookConfiguration", NAME)["webhooks"]
    assert hook["failurePolicy"] == "Ignore"
    assert hook["sideEffects"] == "None"
    assert hook["timeoutSeconds"] == 5
    assert hook["admissionReviewVersions"] == ["v1"]
    (rule,) = hook["rules"]
    assert rule == {
        "apiGroups": [""],
        "apiVersions": ["v1"],
        "operations": ["CREATE", "UPDATE", "DELETE"],
        "resources": ["configmaps"],
        "scope": "Namespaced",
    }
    assert hook["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}
    (condition,) = hook["matchConditions"]
    assert "'aws-auth'" in condition["expression"] and "oldObject" in condition["expression"]
    assert hook["clientConfig"]["url"].endswith("/validate/aws-auth")


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", ["1.28", "1.33", kubernetes_validate.latest_version()])
def test_it_validates_strictly(rendered: dict[str, list[dict[str, Any]]], overlay: str, version: str) -> None:
    kubernetes_validate.validate(one(rendered[overlay], "ValidatingWebhookConfiguration", NAME), version, strict=True)


def test_before_1_27_only_match_conditions_are_unknown(rendered: dict[str, list[dict[str, Any]]]) -> None:
    # docs/admission.md: on older clusters, remove matchConditions (the guard checks the name itself).
    hook_config = one(rendered["overlays/daemonset"], "ValidatingWebhookConfiguration", NAME)
    with pytest.raises(kubernetes_validate.ValidationError, match="matchConditions"):
        kubernetes_validate.validate(hook_config, "1.25", strict=True)
    older = copy.deepcopy(hook_config)
    del older["webhooks"][0]["matchConditions"]
    kubernetes_validate.validate(older, "1.25", strict=True)


def test_the_manifest_tells_how_to_fill_the_ca_bundle(rendered: dict[str, list[dict[str, Any]]]) -> None:
    text = (DEPLOY / "base" / "aws-auth-guard.yaml").read_text()
    assert f"kubectl patch validatingwebhookconfiguration {NAME}" in text
    # where the DaemonSet's server writes it: beside the webhook kubeconfig
    kubeconfig = _server_config(rendered["overlays/daemonset"])["generateKubeconfig"]
    assert f"{kubeconfig.rsplit('/', 1)[0]}/{FILENAME}" in text
