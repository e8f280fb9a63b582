"""The linter in CI, through the ``aws-auth`` console script: empty runs, every YAML error,
SARIF's driver, rule severities and text, what ``--fix`` says, ``--diff``'s exit code, colour."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from authenticator import __version__
from authenticator.lint.registry import all_rules

AWS_AUTH = str(Path(sys.executable).parent / "aws-auth")
CORPUS = Path(__file__).parent / "corpus"
ROOT = Path(__file__).resolve().parents[2]
ANSI = "\x1b["


def aws_auth(*argv: str, cwd: Path, stdin: str = "", env: dict[str, str] | None = None) -> tuple[int, str, str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    done = subprocess.run(
        [AWS_AUTH, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environ | (env or {}),
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: kube-system
data:
  mapRoles: |
    - roleARN: arn:aws:iam::739275461218:role/platform-admin
      username: admin
      groups:
        - platform-admins
"""


# --- runs over paths holding no aws-auth object ---------------------------------------------


def test_no_aws_auth_object_exits_2_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "deployment.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\n")
    code, out, err = aws_auth("lint", "k8s", cwd=tmp_path)
    assert (code, out) == (2, "")
    assert err.startswith("aws-auth: error: no aws-auth ConfigMap") and "k8s" in err and "--allow-empty" in err
    assert err.count("\n") == 1
    # an empty directory, and stdin, too
    (tmp_path / "empty").mkdir()
    assert aws_auth("lint", "empty", cwd=tmp_path)[0] == 2
    assert aws_auth("lint", "-", cwd=tmp_path, stdin="a: 1\n")[0] == 2


def test_allow_empty_for_hooks(tmp_path: Path) -> None:
    (tmp_path / "values.yaml").write_text("replicas: 2\n")
    code, out, _ = aws_auth("lint", "--allow-empty", "values.yaml", cwd=tmp_path)
    assert code == 0 and out.startswith("0 findings")
    # --allow-empty does not hide findings where there is an aws-auth object
    (tmp_path / "cm.yaml").write_text(CONFIGMAP.replace("role/platform-admin", "role/a/platform-admin"))
    assert aws_auth("lint", "--allow-empty", "values.yaml", "cm.yaml", cwd=tmp_path)[0] == 1


def test_pre_commit_hooks_pass_allow_empty() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} == {"aws-auth-lint", "aws-auth-lint-fix"}
    for hook in hooks:
        assert hook["entry"].startswith("aws-auth lint") and "--allow-empty" in hook["entry"].split()


def test_hook_entry_runs_on_an_unrelated_file(tmp_path: Path) -> None:
    """What pre-commit runs for a commit that touches only a Helm values file."""
    (tmp_path / "values.yaml").write_text("image: nginx\n")
    for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()):
        words = hook["entry"].split()[1:]
        code, _, err = aws_auth(*words, "values.yaml", cwd=tmp_path)
        assert (code, err) == (0, ""), hook["id"]


# --- every YAML error --------------------------------------------------------------------------

BROKEN_DOCUMENTS = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: aws-auth, namespace: kube-system}
data: {mapRoles: [
---
apiVersion: v1
kind: ConfigMap
metadata: {name: aws-auth, namespace: kube-system}
data:
  mapRoles: |
    - rolearn: arn:aws:iam::739275461218:role/admin
      username: admin
     groups: [a]
  mapUsers: |
    - userarn: arn:aws:iam::739275461218:user/bob
      username: bob
      groups:
      - a
     - b
---
kind: ConfigMap
metadata: {name: aws-auth}
data:
  mapAccounts: "1"
 bad: indent
"""


def test_every_yaml_error_is_reported(tmp_path: Path) -> None:
    (tmp_path / "aws-auth.yaml").write_text(BROKEN_DOCUMENTS)
    code, out, _ = aws_auth("lint", "--format", "json", "aws-auth.yaml", cwd=tmp_path)
    assert code == 1
    found = [(f["rule"], f["line"], f["section"]) for f in json.loads(out)["findings"] if f["rule"] == "AA001"]
    # one per broken document, one per broken section of the document that parses
    assert found == [("AA001", 5, None), ("AA001", 13, "mapRoles"), ("AA001", 19, "mapUsers"), ("AA001", 25, None)]
    _, out, _ = aws_auth("lint", "aws-auth.yaml", cwd=tmp_path)
    assert "YAML document 3 is not valid YAML" in out


def test_broken_unrelated_document_beside_aws_auth(tmp_path: Path) -> None:
    """A Helm template's broken document is not reported; the aws-auth document beside it is linted."""
    text = "spec:\n  image: {{ .Values.image }}: x\n---\n" + CONFIGMAP
    (tmp_path / "all.yaml").write_text(text)
    code, out, _ = aws_auth("lint", "--format", "json", "--fail-on", "info", "all.yaml", cwd=tmp_path)
    assert code == 1
    assert [(f["rule"], f["line"]) for f in json.loads(out)["findings"]] == [("AA102", 11)]


# --- SARIF -------------------------------------------------------------------------------------


def test_sarif_driver_version_and_small_rules_section(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml").write_text(CONFIGMAP)
    code, out, _ = aws_auth("lint", "--format", "sarif", "--fail-on", "info", "cm.yaml", cwd=tmp_path)
    assert code == 1
    (run,) = json.loads(out)["runs"]
    driver = run["tool"]["driver"]
    assert driver["version"] == __version__
    assert [r["id"] for r in driver["rules"]] == ["AA102"]
    assert [(r["ruleId"], r["ruleIndex"]) for r in run["results"]] == [("AA102", 0)]
    # Plain text, as SARIF's "text" fields are: no reStructuredText literals, the hint a sentence of its own.
    (rule,) = driver["rules"]
    assert "``" not in rule["help"]["text"] + rule["fullDescription"]["text"]
    assert "Failing example (reported):" in rule["help"]["text"]
    (result,) = run["results"]
    assert ". Fix: rename it to rolearn." in result["message"]["text"], result["message"]["text"]
    (tmp_path / "clean.yaml").write_text(CONFIGMAP.replace("roleARN", "rolearn"))
    _, out, _ = aws_auth("lint", "--format", "sarif", "clean.yaml", cwd=tmp_path)
    (run,) = json.loads(out)["runs"]
    assert run["tool"]["driver"]["rules"] == [] and run["results"] == []


# --- rules and rule ----------------------------------------------------------------------------


def _listed(out: str) -> dict[str, str]:
    return {line.split()[0]: line.split()[2] for line in out.splitlines() if line.startswith("AA")}


def test_rules_show_the_severities_lint_reports(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml").write_text(
        CONFIGMAP.replace("roleARN", "rolearn").replace("739275461218", "111122223333")
        + "  mapUsers: |\n    - userarn: arn:aws:iam::<account-id>:user/bob\n      username: bob\n"
    )
    _, out, _ = aws_auth("lint", "--format", "json", "cm.yaml", cwd=tmp_path)
    reported = {f["severity"] for f in json.loads(out)["findings"] if f["rule"] == "AA211"}
    assert reported == {"error", "warning"}
    code, out, _ = aws_auth("rules", cwd=tmp_path)
    assert code == 0
    assert _listed(out)["AA211"] == "error/warning"
    assert _listed(out)["AA202"] == "error"
    _, out, _ = aws_auth("rules", "--format", "json", cwd=tmp_path)
    listed = {r["id"]: r for r in json.loads(out)}
    assert listed["AA211"]["severity"] == "error" and listed["AA211"]["severities"] == ["error", "warning"]
    assert len(listed) == len(all_rules())
    _, out, _ = aws_auth("rule", "AA211", cwd=tmp_path)
    assert "\nseverity: error; warning for an example account id from the AWS documentation;" in out


def test_rules_follow_the_configured_severity(tmp_path: Path) -> None:
    (tmp_path / ".aws-auth-lint.yaml").write_text("severity:\n  AA211: info\n")
    (tmp_path / "cm.yaml").write_text(CONFIGMAP.replace("roleARN", "rolearn").replace("739275461218", "111122223333"))
    _, out, _ = aws_auth("lint", "--format", "json", "--fail-on", "info", "cm.yaml", cwd=tmp_path)
    assert {f["severity"] for f in json.loads(out)["findings"] if f["rule"] == "AA211"} == {"info"}
    assert _listed(aws_auth("rules", cwd=tmp_path)[1])["AA211"] == "info"
    assert _listed(aws_auth("rules", "--no-config", cwd=tmp_path)[1])["AA211"] == "error/warning"
    assert "\nseverity: info (configured);" in aws_auth("rule", "AA211", cwd=tmp_path)[1]


def test_rule_is_plain_text_not_restructuredtext(tmp_path: Path) -> None:
    code, out, _ = aws_auth("rule", "AA002", cwd=tmp_path)
    assert code == 0
    assert out.startswith("AA002 unquoted-template: ")
    assert "``" not in out and "::" not in out.replace("arn:aws:iam::", "")
    assert "Failing example (reported):\n\n    mapRoles: |\n" in out
    assert ANSI not in out  # not a terminal
    assert aws_auth("rule", "unquoted-template", cwd=tmp_path)[1] == out


# --- --fix and --diff --------------------------------------------------------------------------


def test_fix_says_what_it_changed(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml").write_text(CONFIGMAP)
    code, out, err = aws_auth("lint", "--fix", "--fail-on", "info", "cm.yaml", cwd=tmp_path)
    assert code == 0 and out.startswith("0 findings")
    assert err == "cm.yaml:8:7: fixed AA102 key-case: " + err.split("key-case: ", 1)[1]
    assert err.count("\n") == 1 and "'roleARN'" in err
    assert "rolearn:" in (tmp_path / "cm.yaml").read_text()
    # nothing left to fix: nothing said
    assert aws_auth("lint", "--fix", "cm.yaml", cwd=tmp_path)[2] == ""
    # stdin: the fixed text on stdout, the report and what was fixed on stderr
    code, out, err = aws_auth("lint", "--fix", "-", cwd=tmp_path, stdin=CONFIGMAP)
    assert out == CONFIGMAP.replace("roleARN", "rolearn")
    assert err.startswith("-:8:7: fixed AA102 key-case: ") and "0 findings" in err


@pytest.mark.parametrize("fail_on", ["error", "info"])
def test_diff_exits_as_lint_does(tmp_path: Path, fail_on: str) -> None:
    # one fixable info finding (AA102) and one error that --fix does not touch (AA202)
    text = CONFIGMAP.replace("role/platform-admin", "role/teams/platform-admin")
    (tmp_path / "cm.yaml").write_text(text)
    lint_code = aws_auth("lint", "--fail-on", fail_on, "cm.yaml", cwd=tmp_path)[0]
    code, out, _ = aws_auth("lint", "--diff", "--fail-on", fail_on, "cm.yaml", cwd=tmp_path)
    assert code == lint_code == 1
    assert "+    - rolearn: " in out
    assert (tmp_path / "cm.yaml").read_text() == text
    # an info finding only: lint passes at --fail-on error, and so does --diff, diff or not
    (tmp_path / "cm.yaml").write_text(CONFIGMAP)
    lint_code = aws_auth("lint", "--fail-on", fail_on, "cm.yaml", cwd=tmp_path)[0]
    code, out, _ = aws_auth("lint", "--diff", "--fail-on", fail_on, "cm.yaml", cwd=tmp_path)
    assert code == lint_code == (0 if fail_on == "error" else 1)
    assert out.startswith("--- cm.yaml\n+++ cm.yaml\n")


# --- colour ------------------------------------------------------------------------------------


def test_colour_follows_the_flag_and_no_color(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml").write_text(CONFIGMAP)
    args = ("lint", "--fail-on", "info", "cm.yaml")
    assert ANSI not in aws_auth(*args, cwd=tmp_path)[1]  # a pipe: no colour
    out = aws_auth(*args, "--color", "always", cwd=tmp_path)[1]
    assert f"{ANSI}1mcm.yaml:8:7:{ANSI}0m {ANSI}34mAA102 info{ANSI}0m key-case" in out
    assert ANSI not in aws_auth(*args, "--color", "never", cwd=tmp_path, env={"FORCE_COLOR": "1"})[1]
    assert ANSI in aws_auth(*args, cwd=tmp_path, env={"FORCE_COLOR": "1"})[1]
    assert ANSI not in aws_auth(*args, cwd=tmp_path, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})[1]
    # machine formats are never coloured
    assert ANSI not in aws_auth(*args, "--format", "json", "--color", "always", cwd=tmp_path)[1]


def test_colour_on_a_terminal(tmp_path: Path) -> None:
    """auto: colour when stdout is a terminal (a pseudo-terminal here), none with NO_COLOR."""

    (tmp_path / "cm.yaml").write_text(CONFIGMAP)

    def on_terminal(env: dict[str, str]) -> str:
        controller, terminal = pty.openpty()
        environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")} | env
        with subprocess.Popen(
            [AWS_AUTH, "lint", "--fail-on", "info", "cm.yaml"], stdout=terminal, cwd=tmp_path, env=environ
        ) as proc:
            os.close(terminal)
            chunks = []
            while True:
                # bounded: a child that hangs fails the test instead of blocking the read for ever
                if not select.select([controller], [], [], 60)[0]:
                    proc.kill()
                    raise AssertionError("aws-auth lint wrote nothing to its terminal for 60 s")
                try:
                    chunk = os.read(controller, 4096)
                except OSError:  # the terminal closed
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            proc.wait(timeout=60)
        os.close(controller)
        return b"".join(chunks).decode()

    assert ANSI in on_terminal({"TERM": "xterm"})
    assert ANSI not in on_terminal({"TERM": "xterm", "NO_COLOR": "1"})
    assert ANSI not in on_terminal({"TERM": "dumb"})


# --- the summary line counts in plain English --------------------------------------------------


def test_summary_line_counts_read_as_english(tmp_path: Path) -> None:
    (tmp_path / "aws-auth.yaml").write_text(
        CONFIGMAP
        + "    - rolearn: arn:aws:iam::739275461218:role/a\n      username: a\n      groups: [system:masters]\n"
        + "    - rolearn: arn:aws:iam::739275461218:role/b\n      username: b\n      groups: [system:masters]\n"
    )
    code, out, _ = aws_auth("lint", "--color", "never", "aws-auth.yaml", cwd=tmp_path)
    summary = out.strip().split("\n")[-1]
    # two warnings (system:masters twice) and an info (the key's case); no error, so none is named
    assert code == 0
    assert summary == "3 findings (2 warnings, 1 info) in 1 file (1 aws-auth object); 1 fixable with --fix", summary
    (tmp_path / "clean.yaml").write_text(CONFIGMAP.replace("roleARN", "rolearn"))
    code, out, _ = aws_auth("lint", "clean.yaml", cwd=tmp_path)
    assert (code, out) == (0, "0 findings in 1 file (1 aws-auth object)\n")
