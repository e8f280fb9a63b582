"""AA302 unknown-placeholder: a ``{{...}}`` that is not one of the five placeholders.

What: ``{{Session}}``, ``{{ SessionName }}``, ``{{sessionname}}``, ``{{AccountId}}``.

Why: only ``{{EC2PrivateDNSName}}``, ``{{AccountID}}``, ``{{SessionName}}``,
``{{SessionNameRaw}}`` and ``{{AccessKeyID}}`` are substituted, exactly as written
(case and spaces matter). Anything else stays in the username literally: every session gets
the same name, or a group that does not exist.

Fix: spell the placeholder exactly.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/developers
        username: "dev:{{ SessionName }}"
        groups:
          - developers

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/developers
        username: "dev:{{SessionName}}"
        groups:
          - developers
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import PLACEHOLDER_SET, TEMPLATE_RE, template_nodes

ID = "AA302"
SLUG = "unknown-placeholder"
SEVERITY = "error"
SUMMARY = "{{Session}}, {{ SessionName }}: not a placeholder, left in the name literally"

_BY_LOWER = {p.lower(): p for p in PLACEHOLDER_SET}


def meant(name: str) -> str | None:
    key = name.strip().lower().replace(" ", "").replace("_", "")
    if key in _BY_LOWER:
        return _BY_LOWER[key]
    close = difflib.get_close_matches(key, list(_BY_LOWER), n=1, cutoff=0.6)
    return _BY_LOWER[close[0]] if close else None


def check(ctx: RuleContext) -> Iterator[Finding]:
    # Every value appears verbatim in the section text: if all of the text's placeholders are
    # real ones, no entry can hold another.
    texts = [s.text if s.text is not None else ctx.target.text for s in ctx.target.sections.values()]
    if all(name in PLACEHOLDER_SET for text in texts for name in set(TEMPLATE_RE.findall(text))):
        return
    for entry in ctx.target.entries():
        for field, text, node in template_nodes(entry):
            if "{{" not in text:
                continue
            for match in TEMPLATE_RE.finditer(text):
                if match.group(1) in PLACEHOLDER_SET:
                    continue
                guess = meant(match.group(1))
                hint = f"write {{{{{guess}}}}}" if guess else "use one of the five placeholders"
                yield ctx.at_node(
                    entry.section,
                    node,
                    f"{match.group(0)} in {field} is not a placeholder and stays in the name literally"
                    + (f" (did you mean {{{{{guess}}}}}?)" if guess else ""),
                    entry=entry,
                    fix_hint=hint,
                    subject=f"{field}:{match.group(0)}",
                )
