"""The five username/group placeholders (docs/mapping.md §2).

One pass over the template: a substituted value is never scanned again, so a session name
that contains ``{{AccessKeyID}}`` stays literal (**ours**; the reference chains replaces).
"""

from __future__ import annotations

import re

from authenticator.identity import Identity

__all__ = [
    "EC2_PLACEHOLDER",
    "INSTANCE_ID_RE",
    "PLACEHOLDERS",
    "TemplateDenied",
    "is_instance_id",
    "needs_ec2",
    "render",
]

EC2_PLACEHOLDER = "{{EC2PrivateDNSName}}"
# In the reference's order; exact and case-sensitive.
PLACEHOLDERS = ("EC2PrivateDNSName", "AccountID", "SessionName", "SessionNameRaw", "AccessKeyID")
_PLACEHOLDER_RE = re.compile(r"\{\{(" + "|".join(PLACEHOLDERS) + r")\}\}")
# Go's \w is ASCII-only; so is ours.
INSTANCE_ID_RE = re.compile(r"^i-(\w{8}|\w{17})$", re.ASCII)


class TemplateDenied(Exception):
    """The template cannot be rendered for this identity; the review is denied."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def needs_ec2(template: str) -> bool:
    return EC2_PLACEHOLDER in template


def is_instance_id(session_name: str) -> bool:
    return INSTANCE_ID_RE.fullmatch(session_name) is not None


def render(template: str, identity: Identity, *, ec2_private_dns_name: str | None = None) -> str:
    """Substitute the placeholders of ``template`` for ``identity``.

    ``ec2_private_dns_name`` is the already looked-up DNS name of the instance whose id is the
    session name; it is needed only when the template uses ``{{EC2PrivateDNSName}}``.
    Raises TemplateDenied when that placeholder cannot be filled.
    """
    if "{{" not in template:
        return template  # most usernames and groups: nothing to substitute
    if needs_ec2(template):
        if not is_instance_id(identity.session_name):
            raise TemplateDenied("session name is not an EC2 instance id")
        if ec2_private_dns_name is None:
            raise TemplateDenied("EC2 lookup not configured")
    values = {
        "EC2PrivateDNSName": ec2_private_dns_name or "",
        "AccountID": identity.account_id,
        "SessionName": identity.session_name.replace("@", "-"),
        "SessionNameRaw": identity.session_name,
        "AccessKeyID": identity.access_key_id,
    }
    return _PLACEHOLDER_RE.sub(lambda m: values[m.group(1)], template)
