"""The generated files, checked by programs nobody here wrote: cfn-lint (CloudFormation),
python-hcl2 (Terraform), the real aws CLI against the EKS stand-in (botocore's model validates
every request it sends), and eksctl's documented ClusterConfig shape."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2
import jsonschema
import pytest
import yaml

from authenticator.migrate.formats import cli_commands, render_plan
from authenticator.migrate.plan import ClusterFacts, Plan, build_plan
from authenticator.migrate.source import read_aws_auth
from tests.migrate.helpers import child_env
from tests.support.aws_auth import configmap
from tests.support.eks_standin import ACCOUNT, EksStandIn

ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
AWS_AUTH = configmap(f"""
mapRoles: |
  - rolearn: arn:aws:iam::{ACCOUNT}:role/nodes
    username: system:node:{{{{EC2PrivateDNSName}}}}
    groups: [system:bootstrappers, system:nodes]
  - rolearn: arn:aws:iam::{ACCOUNT}:role/fargate-pods
    username: system:node:{{{{SessionName}}}}
    groups: [system:bootstrappers, system:nodes, system:node-proxier]
  - rolearn: arn:aws:iam::{ACCOUNT}:role/admin
    username: "admin:{{{{SessionName}}}}"
    groups: [system:masters, ops, "team's \\"quoted\\" group"]
  - rolearn: arn:aws:iam::{ACCOUNT}:role/ci
    username: system:ci
  - rolearn: arn:aws:iam::{ACCOUNT}:role/viewer
mapUsers: |
  - userarn: arn:aws:iam::{ACCOUNT}:user/alice
    username: "alice ${{HOME}} $(id)"
    groups: [dev]
mapAccounts: |
  - "210987654321"
""")
EXISTING = {
    "principalArn": f"arn:aws:iam::{ACCOUNT}:role/viewer",
    "type": "STANDARD",
    "username": f"arn:aws:sts::{ACCOUNT}:assumed-role/viewer/{{{{SessionName}}}}",
    "kubernetesGroups": [],
}


@pytest.fixture(scope="module")
def plan() -> Plan:
    return build_plan(read_aws_auth("aws-auth.yaml", AWS_AUTH), ClusterFacts(name="prod", entries=(EXISTING,)))


def test_the_plan_has_every_kind_of_row(plan: Plan) -> None:
    assert plan.summary == {"create": 4, "exists": 1, "manual": 1, "blocked": 1}


def test_cloudformation_passes_cfn_lint(plan: Plan, tmp_path: Path) -> None:
    text = render_plan(plan, "cloudformation")
    template = tmp_path / "access-entries.yaml"
    template.write_text(text)
    cfn_lint = shutil.which("cfn-lint")
    assert cfn_lint is not None
    result = subprocess.run([cfn_lint, str(template)], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    doc = yaml.safe_load(text)
    entries = doc["Resources"]
    assert len(entries) == 4  # create rows only; the others are comments
    assert {e["Type"] for e in entries.values()} == {"AWS::EKS::AccessEntry"}
    admin = next(e["Properties"] for e in entries.values() if e["Properties"]["PrincipalArn"].endswith("role/admin"))
    assert admin["AccessPolicies"] == [{"PolicyArn": ADMIN, "AccessScope": {"Type": "cluster"}}]
    assert admin["KubernetesGroups"] == ["ops", 'team\'s "quoted" group']
    assert "# manual: " in text and "# blocked: " in text and "# exists: " in text


def test_cloudformation_with_nothing_to_create_still_passes_cfn_lint(tmp_path: Path) -> None:
    plan = build_plan(read_aws_auth("a.yaml", configmap('mapAccounts: |\n  - "210987654321"\n')))
    template = tmp_path / "empty.yaml"
    template.write_text(render_plan(plan, "cloudformation"))
    cfn_lint = shutil.which("cfn-lint")
    assert cfn_lint is not None
    result = subprocess.run([cfn_lint, str(template)], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout


def test_terraform_parses_with_python_hcl2(plan: Plan) -> None:
    text = render_plan(plan, "terraform")
    assert "# manual: " in text and "# blocked: " in text  # never resources
    doc = hcl2.loads(text)
    resources: dict[str, dict[str, Any]] = {}
    for block in doc["resource"]:
        for kind, named in block.items():
            for name, body in named.items():
                resources[f"{kind.strip(chr(34))}.{name.strip(chr(34))}"] = body
    entries = {k: v for k, v in resources.items() if k.startswith("aws_eks_access_entry.")}
    assert len(entries) == 4
    user = next(v for v in entries.values() if "user/alice" in v["principal_arn"])
    # hcl2 keeps the quotes of string literals; the text between them is what Terraform reads.
    assert user["user_name"] == '"alice $${HOME} $(id)"'
    associations = [v for k, v in resources.items() if k.startswith("aws_eks_access_policy_association.")]
    assert len(associations) == 1
    assert associations[0]["policy_arn"].strip('"') == ADMIN
    assert [(i["to"], i["id"]) for i in doc["import"]] == [
        ("${aws_eks_access_entry.role_viewer}", f'"${{var.cluster_name}}:arn:aws:iam::{ACCOUNT}:role/viewer"')
    ]
    assert "variable" in doc


def test_eksctl_cluster_config_has_the_documented_shape(plan: Plan) -> None:
    # eksctl's documented accessConfig.accessEntries (eksctl.io/v1alpha5, "Access entries" page and
    # examples/40-access-entries.yaml): principalARN, type, kubernetesUsername, kubernetesGroups,
    # accessPolicies[].policyARN and accessPolicies[].accessScope.{type, namespaces}.
    scope = {
        "type": "object",
        "required": ["type"],
        "additionalProperties": False,
        "properties": {
            "type": {"enum": ["cluster", "namespace"]},
            "namespaces": {"type": "array", "items": {"type": "string"}},
        },
    }
    schema = {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "accessConfig"],
        "properties": {
            "apiVersion": {"const": "eksctl.io/v1alpha5"},
            "kind": {"const": "ClusterConfig"},
            "metadata": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "region": {"type": "string"}},
            },
            "accessConfig": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "authenticationMode": {"enum": ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"]},
                    "accessEntries": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["principalARN"],
                            "additionalProperties": False,
                            "properties": {
                                "principalARN": {"type": "string", "pattern": "^arn:"},
                                "type": {
                                    "enum": ["STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX"]
                                },
                                "kubernetesUsername": {"type": "string"},
                                "kubernetesGroups": {"type": "array", "items": {"type": "string"}},
                                "accessPolicies": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["policyARN", "accessScope"],
                                        "additionalProperties": False,
                                        "properties": {"policyARN": {"type": "string"}, "accessScope": scope},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    }
    text = render_plan(plan, "eksctl", region="us-east-1")
    assert "# manual: " in text and "# blocked: " in text and "# exists: " in text
    doc = yaml.safe_load(text)
    jsonschema.validate(doc, schema)
    assert doc["metadata"] == {"name": "prod", "region": "us-east-1"}
    assert len(doc["accessConfig"]["accessEntries"]) == 4


@pytest.fixture(scope="module")
def standin() -> Iterator[EksStandIn]:
    with EksStandIn() as server:
        yield server


def test_cli_commands_run_with_the_real_aws_cli_against_the_stand_in(
    plan: Plan, standin: EksStandIn, tmp_path: Path
) -> None:
    standin.reset()
    standin.create_cluster()
    offline = build_plan(read_aws_auth("aws-auth.yaml", AWS_AUTH))  # no cluster name: $CLUSTER_NAME
    script = tmp_path / "migrate.sh"
    script.write_text(render_plan(offline, "cli"))
    env = child_env(standin, tmp_path, CLUSTER_NAME="prod")
    result = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert standin.model_errors == []
    created = {c["principalArn"]: c for c in standin.calls("CreateAccessEntry")}
    assert len(created) == len(cli_commands(offline)) - 1 == 5
    alice = created[f"arn:aws:iam::{ACCOUNT}:user/alice"]
    assert alice["username"] == "alice ${HOME} $(id)"  # the shell quoting held
    admin = created[f"arn:aws:iam::{ACCOUNT}:role/admin"]
    assert admin["kubernetesGroups"] == ["ops", 'team\'s "quoted" group']
    associated = standin.calls("AssociateAccessPolicy")
    assert [(a["policyArn"], a["accessScope"]) for a in associated] == [(ADMIN, {"type": "cluster"})]
    described = json.loads(
        subprocess.run(
            ["aws", "eks", "describe-access-entry", "--cluster-name", "prod", "--principal-arn", admin["principalArn"]],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    )
    assert described["accessEntry"]["username"] == "admin:{{SessionName}}"


def test_a_crafted_arn_cannot_escape_its_comment(tmp_path: Path) -> None:
    marker = tmp_path / "escaped"
    text = configmap(f"""
    mapRoles: |
      - rolearn: "arn:aws:iam::{ACCOUNT}:role/x\\ntouch {marker}\\r\\u2028# "
        username: "a:{{{{SessionName}}}}"
        groups: [g]
    """)
    plan = build_plan(read_aws_auth("aws-auth.yaml", text))
    assert [r.action for r in plan.rows] == ["manual"]
    script = tmp_path / "migrate.sh"
    script.write_text(render_plan(plan, "cli"))
    result = subprocess.run(
        ["sh", str(script)], env={"CLUSTER_NAME": "prod"}, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    for fmt in ("terraform", "cloudformation", "eksctl"):
        lines = render_plan(plan, fmt).split("\n")
        assert not any(line.startswith("touch") for line in lines), fmt
    hcl2.loads(render_plan(plan, "terraform"))
    yaml.safe_load(render_plan(plan, "eksctl"))
