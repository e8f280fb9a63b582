"""docs/lint-rules.md, generated from the rule registry: every rule's id, default severity,
summary, documentation and its failing and passing examples.

    python -m authenticator.lint.docs [PATH]           write the page (default docs/lint-rules.md)
    python -m authenticator.lint.docs --check [PATH]   exit 1 with one line when PATH is stale

The rule modules' docstrings are the single source: the same text ``aws-auth rule ID`` prints
and the same examples tests/lint/test_rule_examples.py runs. The page is rendered, never edited.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from authenticator.console import PLAIN, Palette
from authenticator.lint.registry import TAB_MARK, Rule, all_rules

__all__ = ["DEFAULT_PATH", "main", "render", "terminal_text"]

DEFAULT_PATH = Path("docs") / "lint-rules.md"
COMMAND = "python -m authenticator.lint.docs"

# Rule families, by the first digit after "AA" (the grouping of docs/lint.md).
_FAMILIES = {
    "0": "YAML and structure",
    "1": "Keys",
    "2": "ARNs",
    "3": "Usernames and templates",
    "4": "Groups",
    "5": "Nodes and Fargate",
    "6": "Duplicates and conflicts",
    "7": "Security policy",
    "9": "The linter itself",
}
_EXAMPLE_HEADING = re.compile(r"^(?:Failing|Passing) example::\s*$", re.MULTILINE)
_RST_LITERAL = re.compile(r"``(.+?)``")
_RST_LITERAL_ANY = re.compile(r"``(.+?)``", re.DOTALL)  # also across a line break


def _markdown_code(inner: str) -> str:
    return f"`` {inner} ``" if "`" in inner else f"`{inner}`"


def _inline(text: str) -> str:
    """The docstrings' reStructuredText literals (````x````) as Markdown code spans; outside them a
    ``<`` is escaped, so that ``<account-id>`` is shown rather than taken for an HTML tag."""
    parts = _RST_LITERAL.split(text)  # odd items are the literals' contents
    return "".join(_markdown_code(part) if i % 2 else part.replace("<", "&lt;") for i, part in enumerate(parts))


def _prose(rule: Rule) -> tuple[str, str]:
    """(tagline, body): the title line's text after the slug, and the docstring up to its examples."""
    title, _, rest = rule.doc.partition("\n")
    tagline = title.split(":", 1)[1].strip() if ":" in title else rule.summary
    heading = _EXAMPLE_HEADING.search(rest)
    body = rest[: heading.start()] if heading else rest
    return _inline(tagline[:1].upper() + tagline[1:]), _inline(body.strip())


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;")


def _anchor(rule: Rule) -> str:
    return f"{rule.id}-{rule.slug}".lower()


def _family(rule: Rule) -> str:
    digit = rule.id[2:3]
    name = _FAMILIES.get(digit, "Other rules")
    return f"{name} (AA{digit}xx)"


def _example(yaml_text: str) -> list[str]:
    shown = yaml_text.replace("\t", TAB_MARK).rstrip("\n")
    return ["```yaml", *shown.split("\n"), "```"]


def _severity_markdown(rule: Rule) -> str:
    others = "".join(f"; {s.label} {_inline(when)}" for s, when in rule.other_severities if s != rule.severity)
    return f"Default severity **{rule.severity.label}**{others}"


def _rule_section(rule: Rule) -> list[str]:
    tagline, body = _prose(rule)
    fix = "fixable with `aws-auth lint --fix`" if rule.fixable else "no automatic fix"
    lines = [f"### {rule.id} {rule.slug}", "", f"{_severity_markdown(rule)}; {fix}.", ""]
    lines += [f"{tagline}", ""]
    if body:
        lines += [body, ""]
    examples = rule.examples()
    for kind, label in (("failing", "Failing example (reported)"), ("passing", "Passing example (clean)")):
        if kind in examples:
            lines += [f"{label}:", "", *_example(examples[kind]), ""]
    return lines


def terminal_text(rule: Rule, *, severity: str | None = None, palette: Palette = PLAIN) -> str:
    """The rule's documentation as plain text for a terminal (``aws-auth rule ID``): the
    docstring's literals without their backquotes, its examples as indented blocks under a
    heading. ``severity`` replaces the severity line's text (a configured override)."""
    title, _, rest = rule.doc.partition("\n")
    tagline = title.split(":", 1)[1].strip() if ":" in title else rule.summary
    heading = _EXAMPLE_HEADING.search(rest)
    body = _RST_LITERAL_ANY.sub(r"\1", (rest[: heading.start()] if heading else rest).strip())
    fix = "fixable with aws-auth lint --fix" if rule.fixable else "no automatic fix"
    tagline = _RST_LITERAL.sub(r"\1", tagline)
    lines = [
        palette.bold(f"{rule.id} {rule.slug}") + f": {tagline}",
        f"severity: {severity or rule.severity_text()}; {fix}",
        "",
    ]
    if body:
        lines += [body, ""]
    examples = rule.examples()
    for kind, label in (("failing", "Failing example (reported)"), ("passing", "Passing example (clean)")):
        if kind in examples:
            shown = examples[kind].replace("\t", TAB_MARK).rstrip("\n")
            lines += [palette.bold(f"{label}:"), "", *("    " + line if line else "" for line in shown.split("\n")), ""]
    if TAB_MARK in "\n".join(lines):
        lines += [f"(a {TAB_MARK} in an example stands for a tab character)", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def render(rules: Sequence[Rule] | None = None) -> str:
    """The whole page for ``rules`` (default: every registered rule), ending with one newline."""
    rules = list(all_rules() if rules is None else rules)
    lines = [
        "# aws-auth lint: the rules",
        "",
        f"<!-- Generated by `{COMMAND}` from the docstrings of authenticator/lint/rules/AA*.py. "
        "Do not edit: change the rule's docstring and run the command. -->",
        "",
        "Every rule of `aws-auth lint`, from its module's own documentation: the same text "
        "`aws-auth rule ID` prints, and the same failing and passing examples the test suite runs. "
        "How the linter reads its inputs, suppressions, configuration and output formats: "
        "[lint.md](lint.md).",
        "",
        f"{len(rules)} rules. A `→` in an example stands for a tab character.",
        "",
        "| rule | slug | default severity | `--fix` | what it catches |",
        "|---|---|---|---|---|",
    ]
    for rule in rules:
        mark = "yes" if rule.fixable else ""
        lines.append(
            f"| [{rule.id}](#{_anchor(rule)}) | {rule.slug} | {rule.severity.label} | {mark} | {_cell(rule.summary)} |"
        )
    lines.append("")
    family = None
    for rule in rules:
        if _family(rule) != family:
            family = _family(rule)
            lines += [f"## {family}", ""]
        lines += _rule_section(rule)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description="Write (or check) the page of lint rules.")
    parser.add_argument("path", nargs="?", default=str(DEFAULT_PATH), help=f"the page (default {DEFAULT_PATH})")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the page is not current")
    args = parser.parse_args(argv)
    path = Path(args.path)
    page = render()
    if args.check:
        try:
            current = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            current = None
        if current != page:
            state = "missing" if current is None else "stale"
            sys.stderr.write(f"{path} is {state}: run `{COMMAND}` and commit the result\n")
            return 1
        return 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        sys.stderr.write(f"{COMMAND}: cannot write {path}: {exc.strerror or exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
