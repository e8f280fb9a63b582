"""Runs the rules over every target of a text: severities, suppressions, fingerprints, fixes.

Pure: text in, findings (and fixed text) out. Reading files, stdin and the cluster is the
CLI's business.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from authenticator.lint.config import LintConfig
from authenticator.lint.document import Target, load_targets
from authenticator.lint.findings import Edit, Finding, Severity
from authenticator.lint.registry import Rule, RuleContext, all_rules, get_rule

__all__ = [
    "FileReport",
    "FixReport",
    "Suppression",
    "apply_edits",
    "fix_report",
    "fix_text",
    "lint_text",
    "no_gc",
    "parse_suppressions",
    "server_reading",
]

UNUSED_SUPPRESSION = "AA900"
_SUPPRESSION = re.compile(r"#\s*aws-auth-lint:\s*ignore\[(?P<ids>[^\]]*)\](?P<reason>[^\n]*)", re.IGNORECASE)


@dataclass
class Suppression:
    line: int  # 1-based outer line of the comment
    column: int
    ids: tuple[str, ...]
    reason: str
    used: set[str] = field(default_factory=set)

    def covers(self, rule_id: str) -> bool:
        return any(rule_id.startswith(i) for i in self.ids)


@dataclass
class FileReport:
    path: str
    findings: list[Finding]  # reported (not suppressed), sorted
    suppressed: list[Finding]
    targets: list[Target]

    @property
    def all(self) -> list[Finding]:
        return self.findings + self.suppressed


def parse_suppressions(text: str) -> tuple[list[Suppression], set[int]]:
    """Suppression comments and the set of comment-only lines (both 1-based)."""
    suppressions: list[Suppression] = []
    comment_lines: set[int] = set()
    if "#" not in text:
        return suppressions, comment_lines
    for number, line in enumerate(text.split("\n"), start=1):
        if "#" not in line:
            continue
        if line.lstrip().startswith("#"):
            comment_lines.add(number)
        if "aws-auth-lint" not in line:
            continue
        match = _SUPPRESSION.search(line)
        if match:
            ids = tuple(i.strip().upper() for i in match.group("ids").split(",") if i.strip())
            suppressions.append(Suppression(number, match.start() + 1, ids, match.group("reason").strip()))
    return suppressions, comment_lines


def _covering(finding: Finding, suppressions: Sequence[Suppression], comment_lines: set[int]) -> Suppression | None:
    first, last = finding.span or (finding.line, finding.line)
    above = first - 1
    lines = set(range(first, last + 1))
    while above in comment_lines:
        lines.add(above)
        above -= 1
    for suppression in suppressions:
        if suppression.line in lines and suppression.covers(finding.rule):
            return suppression
    return None


def _fingerprint(finding: Finding, occurrence: int) -> str:
    # Positions are left out on purpose: the fingerprint survives edits elsewhere in the file.
    who = finding.arn.lower() if finding.arn else str(finding.entry_index)
    key = "|".join(
        [
            finding.rule,
            finding.path,
            str(finding.document),
            finding.section or "",
            who,
            finding.subject,
            str(occurrence),
        ]
    )
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _rules(config: LintConfig) -> list[Rule]:
    return [rule for rule in all_rules() if config.enabled(rule.id)]


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Linting (and the guard's judging, which lints) builds a large acyclic tree of nodes; the
    cyclic collector, run over and over while they are built, only slows it down (about 2x on a
    10,000-entry ConfigMap). Everything is freed by reference counting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def lint_text(path: str, text: str, config: LintConfig | None = None) -> FileReport:
    with no_gc():
        return _lint_text(path, text, config)


def _lint_text(path: str, text: str, config: LintConfig | None) -> FileReport:
    config = config or LintConfig()
    targets = load_targets(path, text)
    findings: list[Finding] = []
    rules = _rules(config)
    for target in targets:
        for rule in rules:
            findings.extend(rule.check(RuleContext(rule, target, config)))
    for finding in findings:
        override = config.severity.get(finding.rule)
        if override is not None:
            finding.severity = override
    suppressions, comment_lines = parse_suppressions(text)
    reported: list[Finding] = []
    suppressed: list[Finding] = []
    for finding in findings:
        suppression = _covering(finding, suppressions, comment_lines) if suppressions else None
        if suppression is None:
            reported.append(finding)
        else:
            suppression.used.add(finding.rule)
            finding.suppressed_by = suppression.reason or "suppressed"
            suppressed.append(finding)
    unused_rule = get_rule(UNUSED_SUPPRESSION)
    if unused_rule is not None and config.enabled(UNUSED_SUPPRESSION):
        for suppression in suppressions:
            unused = [i for i in suppression.ids if not any(u.startswith(i) for u in suppression.used)]
            if unused:
                reported.append(
                    Finding(
                        rule=unused_rule.id,
                        slug=unused_rule.slug,
                        severity=config.severity.get(unused_rule.id, unused_rule.severity),
                        message=f"unused suppression: nothing here triggers {', '.join(unused)}",
                        path=path,
                        line=suppression.line,
                        column=suppression.column,
                        fix_hint="remove the comment, or move it onto or above the entry it is meant for",
                        span=(suppression.line, suppression.line),
                        subject=",".join(unused),
                    )
                )
    reported.sort(key=Finding.sort_key)
    suppressed.sort(key=Finding.sort_key)
    seen: Counter[tuple[str, int, str | None, str | None, int | None, str]] = Counter()
    for finding in reported + suppressed:
        ident = (finding.rule, finding.document, finding.section, finding.arn, finding.entry_index, finding.subject)
        finding.fingerprint = _fingerprint(finding, seen[ident])
        seen[ident] += 1
    return FileReport(path, reported, suppressed, targets)


def _chosen(edits: Iterable[Edit]) -> list[Edit]:
    """The non-overlapping edits, in text order (the first of two overlapping ones wins)."""
    chosen: list[Edit] = []
    last_end = -1
    for edit in sorted(set(edits), key=lambda e: (e.start, e.end)):
        if edit.start < last_end:
            continue
        chosen.append(edit)
        last_end = edit.end
    return chosen


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits (the first of two overlapping ones wins)."""
    for edit in reversed(_chosen(edits)):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


def server_reading(targets: Iterable[Target]) -> list[object]:
    """What the server takes from the targets: each section's fate and its mappings, in order."""
    reading: list[object] = []
    for target in targets:
        for name, section in target.sections.items():
            result = section.result
            mappings = tuple(entry.mapping for entry in result.entries)
            reading.append((target.kind, name, result.error is not None, mappings, result.accounts))
        reading.append(sorted(target.startup_problems))
    return reading


def fix_text(path: str, text: str, config: LintConfig | None = None, *, passes: int = 3) -> str:
    """The text with every safe fix applied (see :func:`fix_report`)."""
    return fix_report(path, text, config, passes=passes).text


@dataclass(frozen=True)
class FixReport:
    text: str  # with every safe fix applied
    resolved: list[Finding]  # the findings those fixes resolved
    before: FileReport  # the report on the text as given
    after: FileReport  # the report on ``text``: the caller need not lint it again


def fix_report(path: str, text: str, config: LintConfig | None = None, *, passes: int = 3) -> FixReport:
    """The text with every safe fix applied, the findings those fixes resolved, and the reports
    on the text before and after.

    Fixes are applied until nothing fixable is left, at most ``passes`` times. A fix may only
    respell what the server already reads identically (docs/lint.md, "Fixing"): a pass whose
    edits change the server's reading (who is matched, as whom, in which groups) is not
    applied, whichever rule offered them. A finding counts as fixed when every edit it offered
    was applied; its line and column are those of the text the pass started from.
    """
    report = before = lint_text(path, text, config)
    fixed_findings: list[Finding] = []
    for _ in range(passes):
        edits = [e for f in report.findings for e in f.edits]
        if not edits:
            break
        applied = set(_chosen(edits))
        fixed = apply_edits(text, applied)
        if fixed == text:
            break
        checked = lint_text(path, fixed, config)
        if server_reading(checked.targets) != server_reading(report.targets):
            break
        fixed_findings += [f for f in report.findings if f.edits and applied.issuperset(f.edits)]
        text, report = fixed, checked
    return FixReport(text, fixed_findings, before, report)


def exit_code(findings: Iterable[Finding], fail_on: str) -> int:
    if fail_on == "never":
        return 0
    threshold = Severity.parse(fail_on)
    return 1 if any(f.severity >= threshold for f in findings) else 0
