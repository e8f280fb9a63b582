"""What a rule reports: findings, their severity and the safe text edits that fix them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = ["Edit", "Finding", "Severity"]


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (error, warning, info)") from None


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``outer_text[start:end]`` with ``text`` (offsets into the file as read)."""

    start: int
    end: int
    text: str


@dataclass(slots=True)
class Finding:
    rule: str  # "AA202"
    slug: str
    severity: Severity
    message: str
    path: str
    line: int  # 1-based, in the outer file
    column: int  # 1-based
    section: str | None = None  # "mapRoles", "server.mapUsers", ... or None for file/object level
    entry_index: int | None = None
    arn: str | None = None
    fix_hint: str | None = None
    edits: tuple[Edit, ...] = ()
    # Outer lines an inline suppression may sit on (the entry's span; the finding's line otherwise).
    span: tuple[int, int] | None = None
    subject: str = ""  # what the finding is about (a key, a group...), for stable fingerprints
    document: int = 0  # index of the YAML document in the file
    suppressed_by: str | None = None  # the suppression's reason when suppressed
    fingerprint: str = field(default="")

    @property
    def fixable(self) -> bool:
        return bool(self.edits)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.rule, self.message)
