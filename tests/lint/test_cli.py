"""The aws-auth command line: exit codes, --fail-on, --select/--ignore, config, stdin, --fix/--diff."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

import pytest

from authenticator.lint.cli import main
from authenticator.lint.registry import all_rules

CORPUS = Path(__file__).parent / "corpus"


class _Stdin(io.StringIO):
    """Standard input as a terminal's: text, and the bytes under it."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._bytes = io.BytesIO(text.encode())

    @property
    def buffer(self) -> BinaryIO:
        return self._bytes


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=_Stdin(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No project config leaks in from the repository's pyproject.toml.
    monkeypatch.chdir(tmp_path)


def test_exit_0_on_clean_file() -> None:
    code, out, _ = run("lint", str(CORPUS / "clean_eks_generated.yaml"))
    assert code == 0
    assert out.startswith("0 findings")


def test_exit_1_on_errors_and_fail_on() -> None:
    path = str(CORPUS / "21_missing_username.yaml")  # one warning only
    assert run("lint", path)[0] == 0
    assert run("lint", "--fail-on", "warning", path)[0] == 1
    assert run("lint", str(CORPUS / "01_role_arn_with_path.yaml"))[0] == 1
    assert run("lint", "--fail-on", "never", str(CORPUS / "01_role_arn_with_path.yaml"))[0] == 0


def test_unparsable_file_is_a_finding_not_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: ConfigMap\ndata: {mapRoles: [\n")
    code, out, _ = run("lint", str(bad))
    assert code == 1
    assert "AA001 error yaml-invalid" in out
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    code, out, _ = run("lint", str(binary))
    assert code == 1 and "AA001" in out


def test_server_config_scalar_where_a_list_belongs_is_a_finding(tmp_path: Path) -> None:
    config = tmp_path / "server.yaml"
    config.write_text("server:\n  mapAccounts: 111122223333\n")
    code, out, _ = run("lint", str(config))
    assert code == 1
    assert "AA006 error section-not-list: server.mapAccounts" in out


def test_exit_2_on_usage_io_and_config_errors(tmp_path: Path) -> None:
    assert run("lint", str(tmp_path / "missing.yaml"))[0] == 2
    assert run("lint")[0] == 2
    assert run("lint", "--format", "xml", str(CORPUS / "clean_eks_generated.yaml"))[0] == 2
    assert run("frobnicate")[0] == 2
    bad_config = tmp_path / ".aws-auth-lint.yaml"
    bad_config.write_text("fail-on: sometimes\n")
    code, _, err = run("lint", str(CORPUS / "clean_eks_generated.yaml"))
    assert code == 2 and "fail-on" in err
    bad_config.write_text("severity: [AA702]\n")
    code, _, err = run("lint", str(CORPUS / "clean_eks_generated.yaml"))
    assert code == 2 and "severity must be a table" in err
    assert run("rule", "AA999")[0] == 2


def test_select_and_ignore_by_prefix() -> None:
    path = str(CORPUS / "33_server_config.yaml")
    _, out, _ = run("lint", "--format", "json", "--select", "AA7", path)
    assert {f["rule"] for f in json.loads(out)["findings"]} == {"AA701", "AA702", "AA704", "AA705"}
    _, out, _ = run("lint", "--format", "json", "--ignore", "AA7,AA102", path)
    assert {f["rule"] for f in json.loads(out)["findings"]} == {"AA202", "AA401"}


def test_pyproject_config_overrides_and_allow_list(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.aws-auth-lint]\nignore = ['AA705']\nfail-on = 'warning'\n"
        "[tool.aws-auth-lint.severity]\nAA702 = 'info'\n"
        "[tool.aws-auth-lint.allow]\nsystem-masters = ['arn:aws:iam::739275461218:role/teams/admin']\n"
    )
    code, out, _ = run("lint", "--format", "json", str(CORPUS / "33_server_config.yaml"))
    findings = json.loads(out)["findings"]
    rules = {f["rule"]: f["severity"] for f in findings}
    assert "AA705" not in rules and "AA701" not in rules
    assert rules["AA702"] == "info"
    assert code == 1


def test_yaml_config_file(tmp_path: Path) -> None:
    (tmp_path / ".aws-auth-lint.yaml").write_text("select: [AA2]\n")
    _, out, _ = run("lint", "--format", "json", str(CORPUS / "33_server_config.yaml"))
    assert [f["rule"] for f in json.loads(out)["findings"]] == ["AA202"]
    _, out, _ = run("lint", "--no-config", "--format", "json", str(CORPUS / "33_server_config.yaml"))
    assert len(json.loads(out)["findings"]) == 7


def test_stdin_and_directories(tmp_path: Path) -> None:
    text = (CORPUS / "04_system_master_typo.yaml").read_text()
    code, out, _ = run("lint", "-", stdin=text)
    assert code == 1 and out.startswith("-:16:11: AA402")
    (tmp_path / "manifests").mkdir()
    shutil.copy(CORPUS / "04_system_master_typo.yaml", tmp_path / "manifests" / "a.yaml")
    shutil.copy(CORPUS / "clean_eks_generated.yaml", tmp_path / "manifests" / "b.yml")
    (tmp_path / "manifests" / "notes.txt").write_text("not linted")
    code, out, _ = run("lint", str(tmp_path / "manifests"))
    assert code == 1 and "in 2 files" in out


# A fix --fix applies (key case); a role path is a suggestion only (tests/lint/test_fix_safety.py).
_PATH_ROLE = "- rolearn: arn:aws:iam::739275461218:role/teams/platform/platform-admin"
_KEY_CASE_ROLE = "- roleARN: arn:aws:iam::739275461218:role/platform-admin"


def test_fix_writes_and_diff_does_not(tmp_path: Path) -> None:
    target = tmp_path / "cm.yaml"
    original = (CORPUS / "01_role_arn_with_path.yaml").read_text().replace(_PATH_ROLE, _KEY_CASE_ROLE)
    target.write_text(original)
    code, out, _ = run("lint", "--fail-on", "info", "--diff", str(target))
    assert code == 1
    assert "-    - roleARN: arn:aws:iam::739275461218:role/platform-admin" in out
    assert "+    - rolearn: arn:aws:iam::739275461218:role/platform-admin" in out
    assert target.read_text() == original
    code, out, _ = run("lint", "--fail-on", "info", "--fix", str(target))
    assert code == 0 and out.startswith("0 findings")
    assert target.read_text() == original.replace("roleARN:", "rolearn:")
    assert run("lint", "--diff", str(target))[:2] == (0, "")


def test_fix_from_stdin_prints_the_fixed_text() -> None:
    text = (CORPUS / "01_role_arn_with_path.yaml").read_text().replace(_PATH_ROLE, _KEY_CASE_ROLE)
    code, out, err = run("lint", "--fail-on", "info", "--fix", "-", stdin=text)
    assert out == text.replace("roleARN:", "rolearn:")
    assert code == 0 and "0 findings" in err


def test_rule_and_rules() -> None:
    code, out, _ = run("rule", "AA202")
    assert code == 0
    assert out.startswith("AA202 role-arn-has-path: ")
    assert "\nseverity: error; no automatic fix\n" in out
    assert "Failing example (reported):" in out and "Passing example (clean):" in out
    assert run("rule", "role-arn-has-path")[1] == out
    code, out, _ = run("rules")
    assert code == 0
    assert len([line for line in out.split("\n") if line.startswith("AA")]) == len(all_rules())
    _, out, _ = run("rules", "--format", "json")
    listed = {r["id"]: r for r in json.loads(out)}
    assert listed["AA202"]["slug"] == "role-arn-has-path" and listed["AA202"]["fixable"] is False
    assert listed["AA102"]["fixable"] is True
    assert listed["AA705"]["severity"] == "info"


def test_module_entry_point_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "authenticator.lint", "lint", str(CORPUS / "clean_eks_generated.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("0 findings")


def test_unrelated_broken_yaml_is_not_reported(tmp_path: Path) -> None:
    """A pre-commit hook sees every YAML file; a Helm template is not an aws-auth problem."""
    helm = tmp_path / "deployment.yaml"
    helm.write_text("spec:\n  replicas: {{ .Values.replicas }}\n  image: {{ .Values.image }}: x\n")
    code, out, _ = run("lint", "--allow-empty", str(helm))
    assert code == 0 and out.startswith("0 findings")
