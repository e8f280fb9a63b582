"""docs/lint-rules.md is generated from the rule registry and must be current: a rule whose
docstring changed without the page being regenerated fails here (and in .ci/run's --check)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from authenticator.lint.docs import COMMAND, DEFAULT_PATH, main, render
from authenticator.lint.registry import TAB_MARK, all_rules

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / DEFAULT_PATH


def test_checked_in_page_is_current() -> None:
    assert PAGE.is_file(), f"{DEFAULT_PATH} is missing: run `{COMMAND}`"
    assert PAGE.read_text(encoding="utf-8") == render(), f"{DEFAULT_PATH} is stale: run `{COMMAND}`"


def test_module_check_passes_from_the_repository_root() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "authenticator.lint.docs", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_every_rule_has_its_section_severity_and_examples() -> None:
    page = render()
    for rule in all_rules():
        section = page.split(f"### {rule.id} {rule.slug}\n", 1)
        assert len(section) == 2, rule.id
        own = section[1].split("\n### ", 1)[0]
        assert f"Default severity **{rule.severity.label}**" in own, rule.id
        assert ("--fix" in own.split("\n\n", 1)[0]) == rule.fixable, rule.id
        for example in rule.examples().values():
            assert example.replace("\t", TAB_MARK).rstrip("\n") in own, rule.id
        assert f"[{rule.id}](#{rule.id.lower()}-{rule.slug})" in page, rule.id


def test_write_then_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "out" / "lint-rules.md"
    assert main([str(page)]) == 0
    assert page.read_text(encoding="utf-8") == render()
    assert main(["--check", str(page)]) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(("content", "state"), [("# an old page\n", "stale"), (None, "missing")])
def test_check_fails_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, state: str
) -> None:
    page = tmp_path / "lint-rules.md"
    if content is not None:
        page.write_text(content, encoding="utf-8")
    assert main(["--check", str(page)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"{page} is {state}: run `{COMMAND}`")
    assert (page.read_text(encoding="utf-8") if page.exists() else None) == content  # --check writes nothing
