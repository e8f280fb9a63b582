"""The rule catalogue: one module per rule under ``authenticator.lint.rules``.

A rule module defines ``ID``, ``SLUG``, ``SEVERITY`` ("error" | "warning" | "info"), ``SUMMARY``
(one line), ``FIXABLE`` and ``check(ctx) -> Iterable[Finding]``. A rule that reports some
findings at another severity than ``SEVERITY`` declares each one in ``OTHER_SEVERITIES``
(``{"warning": "when ..."}``): ``aws-auth rules``, ``aws-auth rule`` and the rules page show
them from there, and tests/lint/test_severities.py checks that no finding uses an undeclared one.
Its docstring is the rule's
documentation and holds a ``Failing example::`` and a ``Passing example::`` block — the text
``aws-auth rule ID`` prints and the examples the tests run.

A finding carries edits only when the server reads the fixed text exactly as before (the same
principals, usernames and groups; docs/lint.md, "Fixing"): any other fix is a suggestion in its
``fix_hint``, never applied by ``--fix``.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, TypedDict, Unpack

from authenticator.lint.findings import Edit, Finding, Severity

if TYPE_CHECKING:
    import yaml

    from authenticator.lint.config import LintConfig
    from authenticator.lint.document import Entry, Section, Target


class _FindingOptions(TypedDict, total=False):
    """The keyword arguments of :meth:`RuleContext.finding` that :meth:`RuleContext.at_node` passes on."""

    entry: Entry | None
    severity: Severity | None
    fix_hint: str | None
    edits: Iterable[Edit]
    subject: str
    arn: str | None


__all__ = ["Rule", "RuleContext", "all_rules", "get_rule"]

TAB_MARK = "\u2192"  # examples write a tab as an arrow: formatters keep it
_EXAMPLE = re.compile(r"^(Failing|Passing) example::\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Rule:
    id: str
    slug: str
    severity: Severity
    summary: str
    fixable: bool
    doc: str
    check: Callable[[RuleContext], Iterable[Finding]]
    # Severities some findings get instead of ``severity``, each with when: ((WARNING, "when ..."),).
    other_severities: tuple[tuple[Severity, str], ...] = ()

    @property
    def title(self) -> str:
        return f"{self.id} {self.slug}"

    @property
    def severities(self) -> tuple[Severity, ...]:
        """Every severity the rule's findings may have, the default first."""
        return (self.severity, *(s for s, _ in self.other_severities if s != self.severity))

    def severity_text(self, override: Severity | None = None) -> str:
        """How ``rules`` and ``rule`` name the severity: ``error`` or ``error; warning for ...``.

        ``override`` is a configured severity, which the engine gives every finding of the rule.
        """
        if override is not None:
            return f"{override.label} (configured)"
        others = "".join(f"; {s.label} {when}" for s, when in self.other_severities if s != self.severity)
        return self.severity.label + others

    def examples(self) -> dict[str, str]:
        """{"failing": yaml, "passing": yaml} from the docstring."""
        out: dict[str, str] = {}
        matches = list(_EXAMPLE.finditer(self.doc))
        for i, match in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(self.doc)
            block = self.doc[match.end() : end]
            lines = block.split("\n")
            body: list[str] = []
            for line in lines[1:]:
                if line.strip() and not line.startswith("    "):
                    break
                body.append(line)
            text = textwrap.dedent("\n".join(body)).strip("\n") + "\n"
            out[match.group(1).lower()] = text.replace(TAB_MARK, "\t")
        return out

    @property
    def help_text(self) -> str:
        """The docstring without its first (title) line."""
        return self.doc.split("\n", 1)[1].strip() if "\n" in self.doc else self.doc


def _from_module(module: ModuleType) -> Rule:
    doc = textwrap.dedent(module.__doc__ or "").strip()
    first, _, rest = doc.partition("\n")
    doc = first + "\n" + textwrap.dedent(rest)
    return Rule(
        id=module.ID,
        slug=module.SLUG,
        severity=Severity.parse(module.SEVERITY),
        summary=module.SUMMARY,
        fixable=getattr(module, "FIXABLE", False),
        doc=doc,
        check=module.check,
        other_severities=tuple(
            (Severity.parse(label), when) for label, when in getattr(module, "OTHER_SEVERITIES", {}).items()
        ),
    )


@cache
def all_rules() -> tuple[Rule, ...]:
    from authenticator.lint import rules as package

    found = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("AA"):
            found.append(_from_module(importlib.import_module(f"{package.__name__}.{info.name}")))
    return tuple(sorted(found, key=lambda r: r.id))


def get_rule(rule_id: str) -> Rule | None:
    key = rule_id.strip().upper()
    for rule in all_rules():
        if rule.id == key or rule.slug == rule_id.strip().lower():
            return rule
    return None


class RuleContext:
    """What a rule sees: the target (server view + nodes + positions) and the config."""

    def __init__(self, rule: Rule, target: Target, config: LintConfig) -> None:
        self.rule = rule
        self.target = target
        self.config = config

    def finding(
        self,
        message: str,
        *,
        line: int,
        column: int,
        section: Section | None = None,
        entry: Entry | None = None,
        severity: Severity | None = None,
        fix_hint: str | None = None,
        edits: Iterable[Edit] = (),
        subject: str = "",
        arn: str | None = None,
    ) -> Finding:
        span = entry.span if entry is not None else (line, line)
        if entry is not None and arn is None:
            arn = entry.arn
        problems = self.target.startup_problems
        effective = severity or self.rule.severity
        at_entry = entry is not None and f"{entry.section.label}[{entry.index}]" in problems
        if at_entry and effective == Severity.ERROR:
            message += f"; {self.target.startup_effect}"
        return Finding(
            rule=self.rule.id,
            slug=self.rule.slug,
            severity=severity or self.rule.severity,
            message=message,
            path=self.target.path,
            line=line,
            column=column,
            section=(section.label if section else (entry.section.label if entry else None)),
            entry_index=entry.index if entry is not None else None,
            arn=arn,
            fix_hint=fix_hint,
            edits=tuple(edits),
            span=span,
            subject=subject,
            document=self.target.document,
        )

    def at_node(
        self,
        section: Section,
        node: yaml.Node | None,
        message: str,
        **options: Unpack[_FindingOptions],
    ) -> Finding:
        line, column = section.pos(node)
        return self.finding(message, line=line, column=column, section=section, **options)
