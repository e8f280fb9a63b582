"""``aws-auth migrate`` as a subprocess: inputs, formats, exit codes 0/1/2, one-line errors."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tests.support.aws_auth import configmap

ACCOUNT = "739275461218"
CLEAN = configmap(f"""
mapRoles: |
  - rolearn: arn:aws:iam::{ACCOUNT}:role/nodes
    username: system:node:{{{{EC2PrivateDNSName}}}}
    groups: [system:bootstrappers, system:nodes]
  - rolearn: arn:aws:iam::{ACCOUNT}:role/admin
    username: "admin:{{{{SessionName}}}}"
    groups: [system:masters, ops]
""")
BLOCKED = CLEAN + '  mapAccounts: |\n    - "210987654321"\n'


def migrate(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["aws-auth", "migrate", *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def test_json_from_a_file_exit_0(tmp_path: Path) -> None:
    path = tmp_path / "aws-auth.yaml"
    path.write_text(CLEAN)
    result = migrate(str(path), "-f", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [(r["action"], r["type"]) for r in doc["rows"]] == [("create", "EC2_LINUX"), ("create", "STANDARD")]
    assert doc["summary"] == {"create": 2}


def test_stdin_and_blocked_exit_1() -> None:
    result = migrate("-", "-f", "table", stdin=BLOCKED)
    assert result.returncode == 1
    assert "blocked" in result.stdout
    assert "mapAccounts[0]" in result.stdout


def test_output_file(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = migrate("-", "-f", "json", "-o", str(out), stdin=CLEAN)
    assert result.returncode == 0
    assert result.stdout == ""
    assert json.loads(out.read_text())["rows"]


def test_usage_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    cases = [
        [],
        [str(tmp_path / "missing.yaml")],
        ["-", "--apply"],
        ["-", "-f", "xml"],
        ["-", "--yes"],
    ]
    for args in cases:
        result = migrate(*args, stdin=CLEAN)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr


def test_input_that_is_not_an_aws_auth_exit_2() -> None:
    for text in ("just: [text", "apiVersion: v1\nkind: Secret\n", configmap("mapRoles: |\n  - rolearn: [\n")):
        result = migrate("-", stdin=text)
        assert result.returncode == 2, (text, result.stdout)
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr


def test_entries_file_offline(tmp_path: Path) -> None:
    entries = tmp_path / "entries.json"
    entries.write_text(
        json.dumps(
            [
                {
                    "principalArn": f"arn:aws:iam::{ACCOUNT}:role/nodes",
                    "type": "EC2_LINUX",
                    "kubernetesGroups": ["system:nodes"],
                    "username": "system:node:{{EC2PrivateDNSName}}",
                }
            ]
        )
    )
    result = migrate("-", "-f", "json", "--entries", str(entries), stdin=CLEAN)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [r["action"] for r in doc["rows"]] == ["exists", "create"]


def test_live_reads_the_cluster_configmap(tmp_path: Path) -> None:
    from tests.support.kube_apiserver import CONFIGMAPS_KUBE_SYSTEM, KubeApiServer

    map_roles = (
        f"- rolearn: arn:aws:iam::{ACCOUNT}:role/admin\n"
        '  username: "admin:{{SessionName}}"\n'
        "  groups:\n"
        "  - system:masters\n"
    )
    with KubeApiServer() as server:
        server.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", {"data": {"mapRoles": map_roles}})
        kubeconfig = server.write_kubeconfig(tmp_path)
        result = migrate("--live", "--kubeconfig", str(kubeconfig), "-f", "json")
        assert [method for method, _, _ in server.requests] == ["GET"]  # read, never written
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)["rows"][0]
    assert (row["source"], row["principalArn"], row["kubernetesGroups"]) == (
        "mapRoles[0]",
        f"arn:aws:iam::{ACCOUNT}:role/admin",
        [],
    )
    assert row["accessPolicies"][0]["policyArn"].endswith("/AmazonEKSClusterAdminPolicy")


def test_live_and_a_path_are_exclusive(tmp_path: Path) -> None:
    result = migrate("-", "--live", stdin=CLEAN)
    assert result.returncode == 2
    assert "not both" in result.stderr


def test_verify_offline_with_principals_nobody_can_present(tmp_path: Path) -> None:
    entries = tmp_path / "entries.json"
    entries.write_text("[]")
    text = configmap("""
    mapRoles: |
      - rolearn: not-an-arn
        username: x
      - rolearn: arn:aws:sts::739275461218:assumed-role/admin/bob
        username: admin
    """)
    result = migrate("-", "--verify", "--entries", str(entries), "-f", "json", stdin=text)
    assert result.returncode == 1, result.stderr  # manual rows
    principals = json.loads(result.stdout)["principals"]
    assert [(p["today"]["username"], p["losesAccess"]) for p in principals] == [(None, False), (None, False)]


def test_table_lists_rows_and_says_what_is_missing() -> None:
    result = migrate("-", stdin=BLOCKED)
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ACTION", "TYPE", "PRINCIPAL", "USERNAME", "GROUPS", "POLICIES", "SOURCE"]
    assert lines[1].split()[:2] == ["create", "EC2_LINUX"]
    assert "2 role ARNs without a path" in result.stdout
    assert "mapAccounts[0]: blocked: map-accounts:" in result.stdout
    assert lines[-1] == "plan: 2 create, 1 blocked; ready for API mode: no"


def test_the_table_is_coloured_on_request_and_never_in_files_or_json(tmp_path: Path) -> None:
    ansi = "\x1b["
    plain = migrate("-", stdin=BLOCKED)
    assert ansi not in plain.stdout  # a pipe: no colour
    coloured = migrate("-", "--color", "always", stdin=BLOCKED)
    assert coloured.returncode == plain.returncode == 1
    assert "\x1b[32mcreate " in coloured.stdout and "\x1b[1;31mblocked" in coloured.stdout
    assert "ready for API mode: \x1b[1;31mno\x1b[0m" in coloured.stdout
    # the same table once the escape codes are taken out
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured.stdout) == plain.stdout
    assert ansi not in migrate("-", "-f", "json", "--color", "always", stdin=BLOCKED).stdout
    out = tmp_path / "plan.txt"
    assert migrate("-", "--color", "always", "-o", str(out), stdin=BLOCKED).returncode == 1
    assert ansi not in out.read_text()


def test_input_errors_are_one_line_with_one_prefix(tmp_path: Path) -> None:
    cases = {
        ("--live", "--kubeconfig", str(tmp_path / "absent")): "aws-auth migrate: error: --live: kubeconfig",
        (str(tmp_path),): f"aws-auth migrate: error: {tmp_path}: is a directory",
        (str(tmp_path / "absent.yaml"),): "aws-auth migrate: error: ",
    }
    for args, start in cases.items():
        result = migrate(*args)
        assert result.returncode == 2, args
        assert result.stderr.startswith(start), result.stderr
        assert result.stderr.count("error:") == 1, result.stderr
        assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


def test_the_output_file_is_never_the_aws_auth_input(tmp_path: Path) -> None:
    path = tmp_path / "aws-auth.yaml"
    path.write_text(CLEAN)
    (tmp_path / "link.yaml").symlink_to(path)
    for output in (str(path), str(tmp_path / "link.yaml"), str(tmp_path / "." / "aws-auth.yaml")):
        result = migrate(str(path), "-f", "terraform", "-o", output)
        assert result.returncode == 2, result.stderr
        assert "is the aws-auth input" in result.stderr and len(result.stderr.splitlines()) == 1
        assert path.read_text() == CLEAN


def test_verify_text_counts_one_principal_in_the_singular(tmp_path: Path) -> None:
    entries = tmp_path / "entries.json"
    entries.write_text("[]")
    text = configmap("""
    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/admin
        username: admin
        groups: [ops]
    """)
    result = migrate("-", "--verify", "--entries", str(entries), stdin=text)
    assert result.returncode == 1, result.stderr  # the admin role would lose access
    assert "verify: 1 principal, 1 would lose access" in result.stdout, result.stdout
