"""config/deploy: every kustomization renders offline with the real kubectl, every object
validates against the Kubernetes schemas (kubernetes-validate, strict), custom resources
against our CRD's schema, and the RBAC, pods and configuration agree with each other."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from authenticator import __version__
from tests.support.deploy import DEPLOY, KUSTOMIZATIONS, OVERLAYS, one, parse_dockerfile, render

# The oldest and newest schemas kubernetes-validate ships, and the kubectl used here.
K8S_VERSIONS = ("1.25", "1.33", kubernetes_validate.latest_version())
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "eks-iam-authenticator"
CRD_NAME = "iamidentitymappings.iamauthenticator.k8s.aws"
EXAMPLES = sorted((DEPLOY / "examples").glob("*.yaml"))
WORKLOADS = {"overlays/daemonset": "DaemonSet", "overlays/deployment": "Deployment"}


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {k: render(k) for k in KUSTOMIZATIONS}


def _crd_schemas(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> openAPIV3Schema for each CRD version among ``objects``."""
    schemas = {}
    for crd in (o for o in objects if o["kind"] == "CustomResourceDefinition"):
        spec = crd["spec"]
        for version in spec["versions"]:
            schemas[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = version["schema"][
                "openAPIV3Schema"
            ]
    return schemas


def _validate(obj: dict[str, Any], version: str, crds: dict[tuple[str, str], dict[str, Any]]) -> None:
    key = (obj["apiVersion"], obj["kind"])
    if obj["kind"] == "ValidatingWebhookConfiguration" and version == "1.25":
        # matchConditions came in 1.27 (on by default from 1.28); docs/admission.md tells older
        # clusters to remove it (test_deploy_admission checks that 1.25 refuses nothing else).
        obj = copy.deepcopy(obj)
        for hook in obj["webhooks"]:
            hook.pop("matchConditions", None)
    if key in crds:
        # kubernetes-validate knows only built-in kinds (it answers SchemaNotFoundError for ours).
        jsonschema.Draft202012Validator(crds[key]).validate(obj)
    else:
        kubernetes_validate.validate(obj, version, strict=True)


# --- rendering and schemas ----------------------------------------------------------------


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_rendered_object_validates(
    rendered: dict[str, list[dict[str, Any]]], kustomization: str, version: str
) -> None:
    objects = rendered[kustomization]
    kinds = sorted(o["kind"] for o in objects)
    assert {"CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ConfigMap"} <= set(kinds)
    for obj in objects:
        _validate(obj, version, _crd_schemas(objects))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_validate(rendered: dict[str, list[dict[str, Any]]], example: Any) -> None:
    crds = _crd_schemas(rendered["base"])
    docs = [d for d in yaml.safe_load_all(example.read_text()) if d]
    assert docs
    for doc in docs:
        if "apiVersion" in doc:  # a manifest; server-config.yaml is a configuration file
            for version in K8S_VERSIONS:
                _validate(doc, version, crds)


def test_validation_is_strict(rendered: dict[str, list[dict[str, Any]]]) -> None:
    # A misspelt field and a wrong type are errors, so the passes above mean something.
    daemonset = copy.deepcopy(one(rendered["overlays/daemonset"], "DaemonSet"))
    daemonset["spec"]["template"]["spec"]["hostNetwrok"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(daemonset, "1.33", strict=True)
    mapping = yaml.safe_load((DEPLOY / "examples" / "iamidentitymapping.yaml").read_text())
    mapping["spec"]["groups"] = "system:masters"
    with pytest.raises(jsonschema.ValidationError):
        _validate(mapping, "1.33", _crd_schemas(rendered["base"]))


def test_crd_matches_the_reference(rendered: dict[str, list[dict[str, Any]]]) -> None:
    crd = one(rendered["base"], "CustomResourceDefinition", CRD_NAME)
    spec = crd["spec"]
    assert spec["group"] == "iamauthenticator.k8s.aws"
    assert spec["scope"] == "Cluster"
    assert spec["names"]["kind"] == "IAMIdentityMapping"
    assert spec["names"]["plural"] == "iamidentitymappings"
    (version,) = spec["versions"]
    assert version["name"] == "v1alpha1" and version["served"] and version["storage"]
    props = version["schema"]["openAPIV3Schema"]["properties"]
    assert set(props["spec"]["properties"]) == {"arn", "username", "groups"}
    assert set(props["spec"]["required"]) == {"arn", "username"}
    assert set(props["status"]["properties"]) == {"canonicalARN", "userID"}


def test_overlays_differ_only_in_the_workload(rendered: dict[str, list[dict[str, Any]]]) -> None:
    daemonset = {(o["kind"], o["metadata"]["name"]) for o in rendered["overlays/daemonset"]}
    deployment = {(o["kind"], o["metadata"]["name"]) for o in rendered["overlays/deployment"]}
    name = "eks-iam-authenticator"
    assert daemonset - deployment == {("DaemonSet", name)}
    assert deployment - daemonset == {("Deployment", name), ("Service", name), ("PodDisruptionBudget", name)}


# --- RBAC ---------------------------------------------------------------------------------


def _grants(objects: list[dict[str, Any]]) -> set[tuple[str, str, str, str, tuple[str, ...], str]]:
    """Every (role kind, namespace, apiGroup, resource, resourceNames, verb) the roles grant."""
    found = set()
    for role in (o for o in objects if o["kind"] in ("Role", "ClusterRole")):
        namespace = role["metadata"].get("namespace", "")
        assert "aggregationRule" not in role
        for rule in role["rules"]:
            assert "nonResourceURLs" not in rule
            names = tuple(sorted(rule.get("resourceNames", ())))
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    for verb in rule["verbs"]:
                        found.add((role["kind"], namespace, group, resource, names, verb))
    return found


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_rbac_grants_only_reads_of_aws_auth_and_the_crd(
    rendered: dict[str, list[dict[str, Any]]], kustomization: str
) -> None:
    read = ("get", "list", "watch")
    expected = {("Role", NAMESPACE, "", "configmaps", ("aws-auth",), v) for v in read} | {
        ("ClusterRole", "", "iamauthenticator.k8s.aws", "iamidentitymappings", (), v) for v in read
    }
    assert _grants(rendered[kustomization]) == expected


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_bindings_give_the_roles_to_our_service_account_only(
    rendered: dict[str, list[dict[str, Any]]], kustomization: str
) -> None:
    objects = rendered[kustomization]
    roles = {(o["kind"], o["metadata"]["name"], o["metadata"].get("namespace", "")) for o in objects}
    bindings = [o for o in objects if o["kind"] in ("RoleBinding", "ClusterRoleBinding")]
    assert sorted(b["kind"] for b in bindings) == ["ClusterRoleBinding", "RoleBinding"]
    for binding in bindings:
        ref = binding["roleRef"]
        # A RoleBinding to a Role in its own namespace; the ClusterRoleBinding to the ClusterRole.
        namespace = binding["metadata"].get("namespace", "")
        wanted_kind = "Role" if binding["kind"] == "RoleBinding" else "ClusterRole"
        assert ref["kind"] == wanted_kind
        assert (ref["kind"], ref["name"], namespace) in roles
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": NAMESPACE}]
    assert one(objects, "ServiceAccount", SERVICE_ACCOUNT)["metadata"]["namespace"] == NAMESPACE


# --- the pods -----------------------------------------------------------------------------


def _pod(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    pod = one(objects, kind)["spec"]["template"]["spec"]
    assert isinstance(pod, dict)
    return pod


def _server_config(objects: list[dict[str, Any]], pod: dict[str, Any]) -> dict[str, Any]:
    """The config.yaml the container's --config points at, read from the rendered ConfigMap."""
    (container,) = pod["containers"]
    (flag,) = [a for a in container["args"] if a.startswith("--config=")]
    path = flag.removeprefix("--config=")
    (mount,) = [m for m in container["volumeMounts"] if path.startswith(m["mountPath"].rstrip("/") + "/")]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    configmap = one(objects, "ConfigMap", volume["configMap"]["name"])
    assert configmap["metadata"]["namespace"] == NAMESPACE
    config = yaml.safe_load(configmap["data"][path.rsplit("/", 1)[1]])
    assert isinstance(config, dict)
    return config


@pytest.mark.parametrize("kustomization", OVERLAYS)
def test_pod_security(rendered: dict[str, list[dict[str, Any]]], kustomization: str) -> None:
    pod = _pod(rendered[kustomization], WORKLOADS[kustomization])
    image_uid = int(parse_dockerfile()[1][-1].all("USER")[0].text.split(":")[0])
    assert pod["serviceAccountName"] == SERVICE_ACCOUNT
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == image_uid
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context.get("privileged", False) is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert set(container["resources"]["requests"]) == {"cpu", "memory"}
    assert container["args"][0] == "server"
    # The overlays deploy the image of this release.
    assert container["image"] == f"eks-iam-authenticator:{__version__}"


@pytest.mark.parametrize("kustomization", OVERLAYS)
def test_probes_hit_healthz_and_readyz_over_https_on_the_server_port(
    rendered: dict[str, list[dict[str, Any]]], kustomization: str
) -> None:
    objects = rendered[kustomization]
    pod = _pod(objects, WORKLOADS[kustomization])
    config = _server_config(objects, pod)
    (container,) = pod["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"webhook": config["server"]["port"]}
    paths = {}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        get = container[probe]["httpGet"]
        assert get["scheme"] == "HTTPS"
        assert ports.get(get["port"], get["port"]) == config["server"]["port"]
        if "host" in get:  # host-network pod on 127.0.0.1: the kubelet must dial what the server binds
            assert get["host"] == config["server"]["address"]
        paths[probe] = get["path"]
    assert paths == {"startupProbe": "/healthz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}


@pytest.mark.parametrize("kustomization", OVERLAYS)
def test_state_dir_is_a_volume(rendered: dict[str, list[dict[str, Any]]], kustomization: str) -> None:
    objects = rendered[kustomization]
    pod = _pod(objects, WORKLOADS[kustomization])
    config = _server_config(objects, pod)
    (container,) = pod["containers"]
    mounts = {m["mountPath"].rstrip("/"): m for m in container["volumeMounts"]}
    assert config["server"]["stateDir"] in mounts
    assert "/tmp" in mounts  # scratch space under a read-only root
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert set(volumes) == {m["name"] for m in mounts.values()}
    assert config["clusterID"]


def test_daemonset_runs_on_control_plane_host_network(rendered: dict[str, list[dict[str, Any]]]) -> None:
    objects = rendered["overlays/daemonset"]
    pod = _pod(objects, "DaemonSet")
    config = _server_config(objects, pod)["server"]
    assert pod["hostNetwork"] is True
    assert pod["nodeSelector"] == {"node-role.kubernetes.io/control-plane": ""}
    tolerated = {(t["key"], t.get("effect")) for t in pod["tolerations"]}
    assert ("node-role.kubernetes.io/control-plane", "NoSchedule") in tolerated
    # The API server on the node dials 127.0.0.1; nothing else on the network reaches the webhook.
    assert config["address"] == config["hostname"] == "127.0.0.1"
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    assert volumes[mounts[config["stateDir"]]]["hostPath"]["path"] == config["stateDir"]
    kubeconfig_dir = config["generateKubeconfig"].rsplit("/", 1)[0]
    assert volumes[mounts[kubeconfig_dir]]["hostPath"]["path"] == kubeconfig_dir


def test_deployment_service_and_certificate_agree(rendered: dict[str, list[dict[str, Any]]]) -> None:
    objects = rendered["overlays/deployment"]
    deployment = one(objects, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    config = _server_config(objects, pod)["server"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = one(objects, "Service")
    # The API server dials the Service's fixed ClusterIP, the name in the certificate.
    assert service["spec"]["clusterIP"] == config["hostname"]
    assert service["spec"]["selector"].items() <= labels.items()
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] == "webhook"
    assert config["address"] == "0.0.0.0"
    assert config["kubeconfigPregenerated"] is True
    # Every replica serves the same certificate: the one `init` made, from a read-only Secret.
    volumes = {v["name"]: v for v in pod["volumes"]}
    (state,) = [m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == config["stateDir"]]
    assert state["readOnly"] is True
    secret = volumes[state["name"]]["secret"]
    assert {i["path"] for i in secret["items"]} == {"cert.pem", "key.pem"}
    assert secret["defaultMode"] & 0o007 == 0  # nothing for "other"
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]
    assert deployment["spec"]["replicas"] >= 2
    pdb = one(objects, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_apiserver_flags_name_the_kubeconfig_the_daemonset_writes(rendered: dict[str, list[dict[str, Any]]]) -> None:
    objects = rendered["overlays/daemonset"]
    config = _server_config(objects, _pod(objects, "DaemonSet"))["server"]
    flags = (DEPLOY / "apiserver-flags.txt").read_text()
    assert f"--authentication-token-webhook-config-file={config['generateKubeconfig']}" in flags
    assert "--authentication-token-webhook-version=v1" in flags


def test_every_copy_of_the_crd_in_the_repository_is_the_same(rendered: dict[str, list[dict[str, Any]]]) -> None:
    # Other config/ files may carry the CRD too (for `kubectl apply -f`); they must not drift.
    ours = one(rendered["base"], "CustomResourceDefinition", CRD_NAME)["spec"]
    copies = []
    for path in sorted(DEPLOY.parent.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            is_crd = isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition"
            if is_crd and doc["metadata"]["name"] == CRD_NAME:
                copies.append((path, doc["spec"]))
    assert copies
    for path, spec in copies:
        assert spec == ours, path
