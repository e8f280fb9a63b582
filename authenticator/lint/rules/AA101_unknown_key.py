"""AA101 unknown-key: an entry key the authenticator does not know.

What: ``role_arn``, ``rolearm``, ``user``, ``group``, ``usernmae``... in an entry.

Why: unknown keys are silently ignored. A misspelt ``rolearn`` drops the entry; a misspelt
``groups`` leaves it without groups. It is an error when the key looks like a real one
(a typo), a warning otherwise.

Fix: use ``rolearn`` or ``sso`` (mapRoles), ``userarn`` (mapUsers), ``username``, ``groups``.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
        username: admin
        group:
          - eks-admins

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-admins
        username: admin
        groups:
          - eks-admins
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from authenticator.lint.findings import Finding, Severity
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import MAP_ROLES

ID = "AA101"
SLUG = "unknown-key"
SEVERITY = "error"
OTHER_SEVERITIES = {"warning": "for a key that looks like no real key"}
SUMMARY = "an unknown entry key is silently ignored (error when it looks like a real key)"

_KEYS = {MAP_ROLES: ("rolearn", "sso", "username", "groups"), "mapUsers": ("userarn", "username", "groups")}
_ALIASES = {
    "role": "rolearn",
    "arn": "rolearn",
    "role_arn": "rolearn",
    "roleid": "rolearn",
    "user": "username",
    "name": "username",
    "user_name": "username",
    "group": "groups",
    "user_arn": "userarn",
    "groupname": "groups",
}


def _normal(key: str) -> str:
    return key.lower().replace("-", "_")


def guess(key: str, section: str) -> str | None:
    """The real key a misspelt one was meant to be, if it looks like one."""
    known = _KEYS.get(section, ())
    normal = _normal(key)
    alias = _ALIASES.get(normal)
    if alias == "rolearn" and section != MAP_ROLES:
        alias = "userarn"
    if alias in known:
        return alias
    squashed = normal.replace("_", "")
    if squashed in known:
        return squashed
    close = difflib.get_close_matches(squashed, known, n=1, cutoff=0.7)
    return close[0] if close else None


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry in ctx.target.entries():
        other = "userarn" if entry.section.name == MAP_ROLES else "rolearn"
        for text in entry.result.unknown_keys:
            if text.lower() in (other, "sso"):
                continue  # AA103: a real key in the wrong section
            pairs = [k for k in entry.keys if k[0] == text]
            if not pairs:
                continue
            meant = guess(text, entry.section.name)
            if meant:
                message = f"unknown key {text!r} is ignored (did you mean {meant!r}?)"
                severity = Severity.ERROR
            else:
                message = f"unknown key {text!r} is ignored"
                severity = Severity.WARNING
            yield ctx.at_node(
                entry.section,
                pairs[0][1],
                message,
                entry=entry,
                severity=severity,
                fix_hint=f"rename it to {meant}" if meant else "remove it",
                subject=text,
            )
