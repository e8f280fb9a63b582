"""Every case of the guard's contract (docs/admission.md), against the real ``server`` process:
AdmissionReview bodies in, AdmissionReview answers (and the metric) out."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
import yaml

from tests.admission.conftest import (
    ACCOUNT,
    ADMIN_ROLE,
    ADMINS,
    CLEAN,
    DEV_ROLE,
    DEVS,
    NODES,
    answer,
    configmap,
    requester,
    server_config,
)
from tests.support.admission import review
from tests.support.processes import Webhook

BROKEN_INDENT = NODES + ADMINS.replace("  groups:", "   groups:")  # one space too many
ROLE_WITH_PATH = NODES + f"- rolearn: arn:aws:iam::{ACCOUNT}:role/team/devs\n  username: d\n  groups: [devs]\n"


def _denied(result: dict[str, object]) -> str:
    assert result["allowed"] is False
    status = result["status"]
    assert isinstance(status, dict)
    assert status["code"] == 403
    message = status["message"]
    assert isinstance(message, str)
    return message


# --- off by default ---------------------------------------------------------------------------


def test_the_guard_is_off_by_default(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("clusterID: admission-tests\n")
    with Webhook(config, tmp_path / "state") as webhook:
        response = webhook.client.post("/validate/aws-auth", json=review("CREATE", configmap(ROLE_WITH_PATH)))
        assert response.status_code == 404
        assert "admission_reviews_total{" not in webhook.client.get("/metrics").text
        webhook.terminate()
    # Nor is its webhook configuration written beside the kubeconfig.
    assert not (tmp_path / "state" / "aws-auth-guard.yaml").exists()
    assert (tmp_path / "state" / "aws-iam-authenticator.kubeconfig").exists()


# --- what is judged ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        review("CREATE", configmap(ROLE_WITH_PATH, name="not-aws-auth")),
        review("CREATE", configmap(ROLE_WITH_PATH, namespace="default")),
        review("CREATE", configmap(ROLE_WITH_PATH) | {"kind": "Secret"}, kind="Secret"),
        review("CREATE", configmap(ROLE_WITH_PATH), group="example.com"),
        review("CONNECT", configmap(ROLE_WITH_PATH)),
        review("DELETE", None, configmap(CLEAN, name="other")),
    ],
    ids=["other-name", "other-namespace", "secret", "other-group", "connect", "delete-other"],
)
def test_anything_but_aws_auth_is_allowed_without_a_word(guard: Webhook, body: dict[str, object]) -> None:
    result = answer(guard, body)
    assert result["allowed"] is True
    assert "warnings" not in result and "status" not in result


def test_a_clean_aws_auth_is_allowed_without_warnings(guard: Webhook) -> None:
    result = answer(guard, review("CREATE", configmap(CLEAN)))
    assert result == {"uid": result["uid"], "allowed": True}


# --- errors deny, with rule ids and positions inside the section ------------------------------


def test_an_error_denies_with_the_rule_section_and_position(guard: Webhook) -> None:
    message = _denied(answer(guard, review("CREATE", configmap(ROLE_WITH_PATH))))
    # the entry after the node role: line 6 of mapRoles, the ARN's first character at column 12
    assert "AA202 mapRoles 6:12" in message


def test_a_wrong_indent_denies_at_the_yaml_error(guard: Webhook) -> None:
    old = configmap(CLEAN)
    message = _denied(answer(guard, review("UPDATE", configmap(BROKEN_INDENT), old)))
    assert "AA001 mapRoles 8:10" in message  # "   groups:" - PyYAML stops at its colon
    # The section would be dropped: the nodes lose access too, and the message says so.
    assert "system:nodes" in message


def test_a_tab_denies_in_a_section_the_api_server_sends_as_is(guard: Webhook) -> None:
    message = _denied(answer(guard, review("CREATE", configmap(NODES + "\t- rolearn: x\n"))))
    assert "AA009 mapRoles 6:1" in message


def test_an_unknown_data_key_is_named(guard: Webhook) -> None:
    message = _denied(answer(guard, review("CREATE", configmap(CLEAN, maproles=DEVS))))
    assert "AA004 data.maproles" in message


def test_at_most_five_findings_are_named(guard: Webhook) -> None:
    entries = "".join(
        f"- rolearn: arn:aws:iam::{ACCOUNT}:role/path/r{i}\n  username: u{i}\n  groups: [g]\n" for i in range(7)
    )
    message = _denied(answer(guard, review("CREATE", configmap(NODES + entries))))
    named = re.findall(r"AA202 mapRoles (\d+):12", message)
    assert named == ["6", "9", "12", "15", "18"]
    assert "and 2 more" in message


# --- warnings ---------------------------------------------------------------------------------


def test_warnings_allow_and_come_back_as_admission_warnings(guard: Webhook) -> None:
    admins = ADMINS.replace("eks-admins", "system:masters")
    result = answer(guard, review("CREATE", configmap(NODES + admins)))
    assert result["allowed"] is True and "status" not in result
    assert result["warnings"] == [
        "AA701 mapRoles 9:7 system-masters: system:masters bypasses RBAC and cannot be revoked by editing bindings"
    ]


def test_at_most_ten_warnings_each_under_120_characters(guard: Webhook) -> None:
    entries = "".join(f"- rolearn: arn:aws:iam::{ACCOUNT}:role/r{i}\n  groups: [g]\n" for i in range(12))
    result = answer(guard, review("CREATE", configmap(NODES + entries)))
    assert result["allowed"] is True
    warnings = result["warnings"]
    assert isinstance(warnings, list) and len(warnings) == 10
    assert all(len(w) < 120 for w in warnings)
    assert warnings[0].startswith("AA301 mapRoles 6:3 missing-username: ")
    assert warnings[-1].startswith("and 3 more warnings")


# --- the lockout guard ------------------------------------------------------------------------


def test_removing_your_own_entry_is_denied(guard: Webhook) -> None:
    old, new = configmap(CLEAN), configmap(NODES + DEVS)
    message = _denied(answer(guard, review("UPDATE", new, old, user=requester(ADMIN_ROLE))))
    assert "this change would remove your own access" in message
    assert ADMIN_ROLE in message


def test_removing_someone_elses_entry_is_allowed(guard: Webhook) -> None:
    old, new = configmap(CLEAN), configmap(NODES + ADMINS)
    assert answer(guard, review("UPDATE", new, old, user=requester(ADMIN_ROLE)))["allowed"] is True


def test_the_requester_is_found_from_the_arn_alone(guard: Webhook) -> None:
    user = requester(DEV_ROLE)
    del user["extra"]["canonicalArn"]  # only the assumed-role ARN: folded into the role, as STS's answer
    message = _denied(answer(guard, review("UPDATE", configmap(NODES + ADMINS), configmap(CLEAN), user=user)))
    assert "remove your own access" in message


def test_a_requester_mapped_by_mapaccounts_still_mapped_after_is_allowed(guard: Webhook) -> None:
    old = configmap(CLEAN)
    new = configmap(NODES + DEVS, mapAccounts=f'- "{ACCOUNT}"\n')
    result = answer(guard, review("UPDATE", new, old, user=requester(ADMIN_ROLE)))
    assert result["allowed"] is True  # warned about mapAccounts, but the admin keeps access


def test_the_requester_check_can_be_turned_off(guard_without_requester_check: Webhook) -> None:
    old, new = configmap(CLEAN), configmap(NODES + DEVS)
    result = answer(guard_without_requester_check, review("UPDATE", new, old, user=requester(ADMIN_ROLE)))
    assert result["allowed"] is True


def test_removing_the_last_node_role_is_denied(guard: Webhook) -> None:
    old, new = configmap(CLEAN), configmap(ADMINS + DEVS)
    message = _denied(answer(guard, review("UPDATE", new, old, user=requester(ADMIN_ROLE))))
    assert "leaves no entry mapping system:nodes" in message
    assert "remove your own access" not in message


def test_the_node_check_holds_without_the_requester_check(guard_without_requester_check: Webhook) -> None:
    result = answer(guard_without_requester_check, review("UPDATE", configmap(ADMINS), configmap(CLEAN)))
    assert "system:nodes" in _denied(result)


def test_replacing_one_node_role_by_another_is_allowed(guard: Webhook) -> None:
    other_nodes = NODES.replace("eks-nodes", "eks-nodes-v2")
    result = answer(guard, review("UPDATE", configmap(other_nodes + ADMINS + DEVS), configmap(CLEAN)))
    assert result["allowed"] is True


# --- DELETE -----------------------------------------------------------------------------------


def test_deleting_aws_auth_that_maps_nodes_is_denied(guard: Webhook) -> None:
    message = _denied(answer(guard, review("DELETE", None, configmap(CLEAN))))
    assert 'eks-iam-authenticator.io/allow-delete="true"' in message


def test_deleting_it_with_the_annotation_is_allowed(guard: Webhook) -> None:
    old = configmap(CLEAN, annotations={"eks-iam-authenticator.io/allow-delete": "true"})
    assert answer(guard, review("DELETE", None, old))["allowed"] is True


def test_the_annotation_must_say_true(guard: Webhook) -> None:
    old = configmap(CLEAN, annotations={"eks-iam-authenticator.io/allow-delete": "yes"})
    assert answer(guard, review("DELETE", None, old))["allowed"] is False


def test_deleting_an_aws_auth_without_node_roles_is_allowed(guard: Webhook) -> None:
    assert answer(guard, review("DELETE", None, configmap(ADMINS + DEVS)))["allowed"] is True


# --- dry runs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dry_run", [False, True])
def test_dry_runs_are_judged_the_same(guard: Webhook, dry_run: bool) -> None:
    denied = answer(guard, review("CREATE", configmap(ROLE_WITH_PATH), dry_run=dry_run))
    assert "AA202 mapRoles 6:12" in _denied(denied)
    warned = answer(guard, review("CREATE", configmap(NODES + ADMINS.replace("eks-admins", "system:masters"))))
    assert warned["allowed"] is True and len(warned["warnings"]) == 1


# --- malformed bodies: 400, never 500 ---------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"{}",
        json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": "x"}}).encode(),
        json.dumps({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {}}).encode(),
        json.dumps(review("CREATE", configmap(CLEAN)) | {"request": {"uid": "x"}}).encode(),
        json.dumps(
            {**review("CREATE", configmap(CLEAN)), "request": {**review("CREATE", None)["request"], "uid": 7}}
        ).encode(),
        json.dumps(
            {**review("CREATE", configmap(CLEAN)), "request": {**review("CREATE", None)["request"], "object": "x"}}
        ).encode(),
        b"[" * 100_000,
    ],
    ids=["text", "list", "empty", "tokenreview", "v1beta1", "no-kind", "uid-number", "object-string", "deep"],
)
def test_a_body_that_is_not_an_admission_review_is_a_400(guard: Webhook, body: bytes) -> None:
    response = guard.client.post("/validate/aws-auth", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    doc = response.json()
    assert doc["kind"] == "AdmissionReview" and doc["response"]["allowed"] is False
    assert doc["response"]["status"]["message"].startswith("malformed request: ")


def test_a_malformed_review_keeps_its_uid(guard: Webhook) -> None:
    body = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u-1"}}
    response = guard.client.post("/validate/aws-auth", json=body)
    assert response.status_code == 400
    assert response.json()["response"]["uid"] == "u-1"
    assert "request.kind is missing" in response.json()["response"]["status"]["message"]


def test_odd_but_valid_objects_are_judged_not_crashed_on(guard: Webhook) -> None:
    weird = configmap(CLEAN)
    weird["data"] = {"mapRoles": 5, "mapUsers": None}
    result = answer(guard, review("CREATE", weird))
    assert "AA003" in _denied(result)
    no_data = configmap(None)
    del no_data["data"]
    assert answer(guard, review("CREATE", no_data))["allowed"] is True
    assert answer(guard, review("UPDATE", None, configmap(CLEAN)))["allowed"] is True


# --- the metric -------------------------------------------------------------------------------


def _counts(webhook: Webhook) -> dict[str, float]:
    text = webhook.client.get("/metrics").text
    found = re.findall(r'^aws_iam_authenticator_admission_reviews_total\{result="(\w+)"\} (\S+)$', text, re.M)
    return {label: float(value) for label, value in found}


def test_every_review_is_counted_by_result(guard: Webhook) -> None:
    before = _counts(guard)
    answer(guard, review("CREATE", configmap(CLEAN)))
    answer(guard, review("CREATE", configmap(NODES + ADMINS.replace("eks-admins", "system:masters"))))
    answer(guard, review("CREATE", configmap(ROLE_WITH_PATH)))
    answer(guard, review("CREATE", configmap(ROLE_WITH_PATH, name="other")))
    guard.client.post("/validate/aws-auth", content=b"nope")
    after = _counts(guard)
    delta = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in ("allowed", "warned", "denied", "malformed")}
    assert delta == {"allowed": 2.0, "warned": 1.0, "denied": 1.0, "malformed": 1.0}


# --- the flag, and the webhook configuration beside the kubeconfig -----------------------------


def test_the_admission_flag_turns_the_guard_on(tmp_path: Path) -> None:
    from authenticator.cli import build_parser
    from authenticator.server.config import load_config, overrides_from_args

    config = tmp_path / "config.yaml"
    config.write_text("clusterID: admission-tests\n")
    args = build_parser({}).parse_args(["server", "-c", str(config), "--admission"])
    assert load_config(str(config), overrides_from_args(args)).admission_enabled is True
    args = build_parser({}).parse_args(["server", "-c", str(config)])
    assert load_config(str(config), overrides_from_args(args)).admission_enabled is False


def test_the_server_writes_the_webhook_configuration_with_its_certificate(guard: Webhook) -> None:
    written = yaml.safe_load((guard.state / "aws-auth-guard.yaml").read_text())
    (hook,) = written["webhooks"]

    assert base64.b64decode(hook["clientConfig"]["caBundle"]) == (guard.state / "cert.pem").read_bytes()
    assert hook["clientConfig"]["url"] == f"https://localhost:{guard.port}/validate/aws-auth"
    assert hook["failurePolicy"] == "Ignore"


def test_unknown_admission_keys_are_warned_about_and_bad_values_refused(tmp_path: Path) -> None:
    from authenticator.server.config import ConfigError, load_config_with_warnings

    path = server_config(tmp_path, enabled=True, protectrequester=False, block=True)
    config, warnings = load_config_with_warnings(str(path))
    assert config.admission_enabled and not config.admission_protect_requester
    assert warnings == ["unknown config key 'server.admission.block' ignored"]
    path.write_text("clusterID: x\nserver:\n  admission:\n    enabled: maybe\n")
    with pytest.raises(ConfigError, match=r"server\.admission\.enabled"):
        load_config_with_warnings(str(path))
    path.write_text("clusterID: x\nserver:\n  admission: true\n")
    with pytest.raises(ConfigError, match=r"server\.admission must be a mapping"):
        load_config_with_warnings(str(path))


# --- edges probed against the real process ------------------------------------------------------


def test_an_update_that_repairs_a_broken_aws_auth_is_allowed(guard: Webhook) -> None:
    # The old object maps neither the nodes nor the admin (its mapRoles does not parse): nothing
    # is lost, the new object is clean.
    result = answer(guard, review("UPDATE", configmap(CLEAN), configmap(BROKEN_INDENT), user=requester(ADMIN_ROLE)))
    assert result == {"uid": result["uid"], "allowed": True}


def test_a_requester_the_old_object_did_not_map_is_not_refused_for_lockout(guard: Webhook) -> None:
    old, new = configmap(NODES + DEVS), configmap(NODES)
    assert answer(guard, review("UPDATE", new, old, user=requester(ADMIN_ROLE)))["allowed"] is True


def test_binary_data_is_not_read(guard: Webhook) -> None:
    # The server reads only data: a mapRoles in binaryData maps nobody and is not linted.
    with_binary = configmap(CLEAN) | {"binaryData": {"mapRoles": base64.b64encode(b"\t- broken").decode()}}
    result = answer(guard, review("CREATE", with_binary))
    assert result == {"uid": result["uid"], "allowed": True}


def test_a_metadata_only_update_of_an_aws_auth_with_errors_is_refused(guard: Webhook) -> None:
    # docs/admission.md, "Bypassing it": the allow-delete annotation is itself judged.
    old = configmap(ROLE_WITH_PATH)
    new = configmap(ROLE_WITH_PATH, annotations={"eks-iam-authenticator.io/allow-delete": "true"})
    assert "AA202 mapRoles 6:12" in _denied(answer(guard, review("UPDATE", new, old)))


def test_a_requester_mapped_only_by_the_server_config_is_not_checked(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "clusterID: admission-tests\n"
        "server:\n"
        f"  mapRoles: [{{rolearn: '{ADMIN_ROLE}', username: admin, groups: [eks-admins]}}]\n"
        "  admission: {enabled: true}\n"
    )
    with Webhook(config, tmp_path / "state") as webhook:
        old, new = configmap(NODES + DEVS), configmap(NODES)
        assert answer(webhook, review("UPDATE", new, old, user=requester(ADMIN_ROLE)))["allowed"] is True
        # aws-auth alone is judged: an entry there too, removed, is refused (docs/admission.md).
        old = configmap(CLEAN)
        assert "remove your own access" in _denied(
            answer(webhook, review("UPDATE", new, old, user=requester(ADMIN_ROLE)))
        )
        webhook.terminate()


def test_the_largest_update_the_api_server_can_send_is_judged(guard: Webhook) -> None:
    # ConfigMap data holds up to 1 MiB; Go's JSON encoder writes '<' as \u003c (six bytes), so an
    # UPDATE of such an aws-auth carries two objects of about 6 MiB each. It must be judged.
    section = NODES + "# " + "<" * (1024 * 1024 - len(NODES) - 3) + "\n"
    body = json.dumps(review("UPDATE", configmap(section), configmap(section)), ensure_ascii=True)
    raw = body.replace("<", "\\u003c").encode()
    assert len(raw) > 12_000_000
    response = guard.client.post("/validate/aws-auth", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text[:200]
    assert response.json()["response"]["allowed"] is True
