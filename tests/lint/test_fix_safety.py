"""--fix never changes who is matched: it only respells what the server already reads identically.

A fix that would change which principals match, or the username and groups they get, is a
suggestion in the finding's fix text and is never applied (docs/lint.md).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from authenticator.lint.cli import main
from authenticator.lint.config import LintConfig
from authenticator.lint.document import load_targets
from authenticator.lint.engine import fix_text, lint_text
from authenticator.lint.findings import Finding, Severity
from authenticator.lint.registry import Rule, RuleContext, all_rules, get_rule
from authenticator.lint.rules._common import arn_entries, scalar_edit
from tests.support.aws_auth import HEADER, configmap

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(p.name for p in CORPUS.iterdir() if p.name != "expected.yaml")


def server_view(text: str) -> list[object]:
    """Everything the server takes from the text: per target, each section's fate and mappings."""
    view: list[object] = []
    for target in load_targets("x.yaml", text):
        sections = {
            name: (
                section.result.error is not None,
                tuple(e.mapping for e in section.result.entries),
                section.result.accounts,
            )
            for name, section in sorted(target.sections.items())
        }
        view.append((target.kind, sorted(target.startup_problems), sections))
    return view


def _fix_leaves_unchanged(text: str, rule_id: str) -> str:
    """--fix leaves ``text`` as it is and the finding is still there: its fix text, returned."""
    assert fix_text("x.yaml", text, LintConfig()) == text
    found = [f for f in lint_text("x.yaml", text, LintConfig()).findings if f.rule == rule_id]
    assert found, rule_id
    assert all(not f.fixable and not f.edits for f in found)
    hint = found[0].fix_hint
    assert hint is not None and "not applied by --fix" in hint
    return hint


# -- the server reads the fixed text exactly as before ---------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_fix_keeps_the_servers_reading_of_every_corpus_file(name: str) -> None:
    text = (CORPUS / name).read_text(encoding="utf-8")
    assert server_view(fix_text(name, text, LintConfig())) == server_view(text)


@pytest.mark.parametrize("rule", [r for r in all_rules() if r.fixable], ids=lambda r: r.id)
def test_fix_keeps_the_servers_reading_of_each_fixable_example(rule: Rule) -> None:
    text = configmap(rule.examples()["failing"])
    fixed = fix_text("x.yaml", text, LintConfig())
    assert fixed != text
    assert server_view(fixed) == server_view(text)


def test_only_respelling_rules_stay_fixable() -> None:
    assert {r.id for r in all_rules() if r.fixable} == {"AA102", "AA703"}


# -- AA204: a session ARN is one person; the role ARN is everyone who can assume the role ------

SESSION_ENTRY = (
    HEADER
    + """\
  mapRoles: |
    - rolearn: arn:aws:sts::739275461218:assumed-role/admin/jane
      username: jane
      groups:
        - system:masters
"""
)


def test_fix_does_not_turn_a_session_arn_into_its_role() -> None:
    hint = _fix_leaves_unchanged(SESSION_ENTRY, "AA204")
    # The suggestion: the role ARN with a per-session username, and what that admits.
    assert 'rolearn: arn:aws:iam::739275461218:role/admin with username: "admin:{{SessionName}}"' in hint
    assert "every session of role admin, not only jane" in hint


def test_session_arn_suggestion_reaches_the_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no project config from the repository's pyproject.toml
    target = tmp_path / "aws-auth.yaml"
    target.write_text(SESSION_ENTRY)
    out, err = io.StringIO(), io.StringIO()
    assert main(["lint", "--fix", str(target)], stdin=io.StringIO(), stdout=out, stderr=err) == 1
    assert target.read_text() == SESSION_ENTRY
    shown = out.getvalue()
    assert "AA204" in shown and '"admin:{{SessionName}}"' in shown and "(fixable with --fix)" not in shown


# -- one test per demoted rule ----------------------------------------------------------------


_SSO_ROLE = "arn:aws:iam::739275461218:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef"


def _admin_role(rolearn: str = "rolearn: arn:aws:iam::739275461218:role/admin", *, username: str = "admin") -> str:
    """A mapRoles entry giving system:masters; each case below changes one line of it."""
    return f"    - {rolearn}\n      username: {username}\n      groups:\n        - system:masters\n"


@pytest.mark.parametrize(
    ("text", "rule_id", "suggestion"),
    [
        pytest.param(
            HEADER + "  mapRoles: |\n" + _admin_role("rolearn: arn:aws:iam::739275461218:role/teams/platform/admin"),
            "AA202",
            "use arn:aws:iam::739275461218:role/admin",
            id="role-path",
        ),
        pytest.param(
            HEADER + f'  mapRoles: |\n    - rolearn: {_SSO_ROLE}\n      username: "sso:{{{{SessionName}}}}"\n',
            "AA203",
            "use arn:aws:iam::739275461218:role/AWSReservedSSO_Admin_0123456789abcdef",
            id="sso-role-path",
        ),
        pytest.param(
            HEADER + "  mapRoles: |\n" + _admin_role(username="{{SessionName}}"),
            "AA002",
            'quote it: "{{SessionName}}"',
            id="template-that-makes-a-section-load",
        ),
        pytest.param(
            HEADER + "  MapRoles: |\n" + _admin_role(),
            "AA004",
            "rename it to mapRoles",
            id="ignored-data-key",
        ),
        pytest.param(
            HEADER + "  mapRoles: |\n"
            "    - sso:\n"
            "        permissionSetName: Admin\n"
            "        accountID: 739275461218\n"
            '      username: "sso:{{SessionName}}"\n'
            "      groups:\n"
            "        - system:masters\n",
            "AA703",
            'accountID: "739275461218"',
            id="sso-account-the-server-drops",
        ),
        # A real YAML list: the server reads 012345670123 as the octal number 1402433619.
        pytest.param(
            "server:\n  mapAccounts:\n    - 012345670123\n",
            "AA703",
            'quote it: "012345670123"',
            id="account-of-the-server-config",
        ),
    ],
)
def test_demoted_fix_is_a_suggestion(text: str, rule_id: str, suggestion: str) -> None:
    assert suggestion in _fix_leaves_unchanged(text, rule_id)


# -- the fixes that stay: the server reads both spellings identically -------------------------


def test_map_accounts_string_is_still_quoted() -> None:
    text = HEADER + "  mapAccounts: |\n    - 012345670123\n"
    fixed = fix_text("x.yaml", text, LintConfig())
    assert fixed == text.replace("- 012345670123", '- "012345670123"')
    assert server_view(fixed) == server_view(text)


def test_key_case_is_not_renamed_when_two_spellings_fold_together() -> None:
    # The server takes the spelling that sorts last (Username: dev); renaming both to
    # "username" would leave the choice to the YAML loader.
    text = HEADER + (
        "  mapRoles: |\n"
        "    - rolearn: arn:aws:iam::739275461218:role/dev\n"
        "      USERNAME: admin\n"
        "      Username: dev\n"
        "      groups:\n"
        "        - developers\n"
    )
    assert fix_text("x.yaml", text, LintConfig()) == text
    rule = get_rule("AA102")
    assert rule is not None and rule.fixable
    assert [f.fixable for f in lint_text("x.yaml", text, LintConfig()).findings if f.rule == "AA102"] == [False, False]


def test_key_case_alone_is_still_renamed() -> None:
    text = HEADER + (
        "  mapRoles: |\n"
        "    - roleARN: arn:aws:iam::739275461218:role/dev\n"
        '      username: "dev:{{SessionName}}"\n'
        "      groups:\n"
        "        - developers\n"
    )
    fixed = fix_text("x.yaml", text, LintConfig())
    assert fixed == text.replace("roleARN:", "rolearn:")
    assert server_view(fixed) == server_view(text)


# -- the engine's own guard: a rule that offers a widening edit is not obeyed -----------------


def _widening_rule() -> Rule:
    """A rule with a bug: it 'fixes' every role ARN into the admin role."""

    def check(ctx: RuleContext) -> Iterator[Finding]:
        for entry, _, arn, node in arn_entries(ctx.target):
            edit = scalar_edit(entry.section, node, "arn:aws:iam::739275461218:role/admin")
            if edit is not None and not arn.endswith("role/admin"):
                yield ctx.at_node(entry.section, node, "widen", entry=entry, edits=[edit])

    return Rule("AA999", "widen", Severity.ERROR, "a buggy fix", True, "AA999 widen: a buggy fix", check)


def test_fix_refuses_edits_that_change_the_servers_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    import authenticator.lint.engine as engine

    rules = [*engine._rules(LintConfig()), _widening_rule()]
    monkeypatch.setattr(engine, "_rules", lambda config: rules)
    text = HEADER + (
        "  mapRoles: |\n"
        "    - roleARN: arn:aws:iam::739275461218:role/dev\n"
        '      username: "dev:{{SessionName}}"\n'
        "      groups:\n"
        "        - system:masters\n"
    )
    assert "AA999" in {f.rule for f in lint_text("x.yaml", text, LintConfig()).findings}
    # The widening edit comes in the same pass as the safe key-case one: neither is applied.
    assert fix_text("x.yaml", text, LintConfig()) == text
