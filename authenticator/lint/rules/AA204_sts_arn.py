"""AA204 sts-arn: an STS assumed-role (session) ARN instead of the role ARN.

What: ``rolearn: arn:aws:sts::739275461218:assumed-role/admin/jane`` — what
``aws sts get-caller-identity`` prints.

Why: the authenticator folds every session into its role ARN
(``arn:aws:iam::739275461218:role/admin``) before matching; a session ARN never matches.

Fix: the server cannot match one session: an entry can only name the role, and then it admits
*every* session of that role. The finding suggests the role ARN with a per-session username,
``username: "admin:{{SessionName}}"``, so that each caller keeps a name of their own; give it
only the groups every user of the role should have. A suggestion only: ``--fix`` never applies
it, because an entry meant for one person (``jane``, perhaps in ``system:masters``) would then
admit everyone who can assume the role, under that person's username: a fix may not change
who is matched.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:sts::739275461218:assumed-role/admin/jane
        username: "admin:{{SessionName}}"
        groups:
          - eks-admins

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/admin
        username: "admin:{{SessionName}}"
        groups:
          - eks-admins
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import arn_entries, is_sts_arn, mentions

ID = "AA204"
SLUG = "sts-arn"
SEVERITY = "error"
SUMMARY = "an sts assumed-role session ARN in rolearn never matches"
FIXABLE = False  # the role ARN admits every session, not only this one


def role_arn_of(arn: str) -> str | None:
    """The IAM role ARN of a session ARN, exactly as the server canonicalises callers."""
    from authenticator.arn import canonicalize

    try:
        return canonicalize(arn)
    except ValueError:
        return None


def suggestion(session_arn: str, role_arn: str | None) -> str:
    """What to write instead; never applied, since the role ARN admits every session of the role."""
    if role_arn is None:
        return "use the role ARN arn:<partition>:iam::<account>:role/<name> (it admits every session of the role)"
    role = role_arn.rsplit("/", 1)[-1]
    session = session_arn.rsplit("/", 1)[-1]
    return (
        f'rolearn: {role_arn} with username: "{role}:{{{{SessionName}}}}" - it admits every session of '
        f"role {role}, not only {session}, so give it only the groups they all need (not applied by --fix)"
    )


def check(ctx: RuleContext) -> Iterator[Finding]:
    if not mentions(ctx.target, ":sts:"):
        return
    for entry, _, arn, node in arn_entries(ctx.target):
        if not is_sts_arn(arn):
            continue
        fixed = role_arn_of(arn.strip())
        yield ctx.at_node(
            entry.section,
            node,
            "this is an STS session ARN: callers are matched by their role ARN, so this never matches",
            entry=entry,
            fix_hint=suggestion(arn.strip(), fixed),
        )
