"""The guard's decision on one AdmissionRequest (docs/admission.md). Pure: request in, verdict out.

The new aws-auth is linted with the linter's engine and rules, on the server's own parser
(:func:`authenticator.lint.engine.lint_text` over the ConfigMap written back as a manifest).
The lockout checks read the old and the new object with the server's aws-auth parser and ask
the server's mapping chain whether the requester is mapped, as a review would.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from authenticator.admission.models import AdmissionRequest, RequestUser
from authenticator.arn import canonicalize, parse_arn
from authenticator.identity import Identity
from authenticator.lint.config import LintConfig
from authenticator.lint.document import Section, Target
from authenticator.lint.engine import lint_text, no_gc
from authenticator.lint.findings import Finding, Severity
from authenticator.lint.resolve import StaticSource
from authenticator.mapping.awsauth import MAP_ACCOUNTS, MAP_ROLES, MAP_USERS, SECTIONS, parse_aws_auth
from authenticator.mapping.chain import MappingChain
from authenticator.mapping.model import MappingSet, RoleMapping, UserMapping
from authenticator.mapping.sources.modes import EKS_CONFIGMAP

__all__ = [
    "ALLOW_DELETE_ANNOTATION",
    "MAX_ERRORS_NAMED",
    "MAX_WARNINGS",
    "NODES_GROUP",
    "WARNING_LENGTH",
    "Verdict",
    "is_aws_auth",
    "judge",
]

NAME, NAMESPACE = "aws-auth", "kube-system"
ALLOW_DELETE_ANNOTATION = "eks-iam-authenticator.io/allow-delete"
NODES_GROUP = "system:nodes"
MAX_ERRORS_NAMED = 5
MAX_WARNINGS = 10
WARNING_LENGTH = 119  # "each under 120 characters"
JUDGED_OPERATIONS = ("CREATE", "UPDATE", "DELETE")
# How findings name the object; never shown (positions are given inside each section's text).
LINT_PATH = "kube-system/aws-auth"

Result = Literal["allowed", "warned", "denied"]


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    result: Result  # the label of aws_iam_authenticator_admission_reviews_total
    message: str = ""  # why, when denied
    warnings: tuple[str, ...] = field(default=())

    @property
    def code(self) -> int:
        return 200 if self.allowed else 403


_ALLOW = Verdict(True, "allowed")


def judge(request: AdmissionRequest, *, protect_requester: bool = True, lint: LintConfig | None = None) -> Verdict:
    """The verdict on ``request``: anything but ConfigMap kube-system/aws-auth on CREATE, UPDATE or
    DELETE is allowed without a word. ``dryRun`` requests are judged like the others."""
    if not is_aws_auth(request) or request.operation not in JUDGED_OPERATIONS:
        return _ALLOW
    with no_gc():
        if request.operation == "DELETE":
            return _judge_delete(request.oldObject)
        if request.object is None:  # a CREATE/UPDATE always carries it; nothing to judge without it
            return _ALLOW
        return _judge_write(request, protect_requester=protect_requester, lint=lint or LintConfig())


# -- which requests -----------------------------------------------------------------------------


def _metadata(obj: Mapping[str, Any] | None) -> Mapping[str, Any]:
    meta = (obj or {}).get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def is_aws_auth(request: AdmissionRequest) -> bool:
    """Whether the request is about the ConfigMap kube-system/aws-auth (whatever the operation)."""
    if request.kind.group != "" or request.kind.kind != "ConfigMap":
        return False
    meta = _metadata(request.object if request.object is not None else request.oldObject)
    name = request.name or meta.get("name")
    namespace = request.namespace or meta.get("namespace")
    return name == NAME and namespace == NAMESPACE


def _data(obj: Mapping[str, Any] | None) -> dict[str, Any]:
    data = (obj or {}).get("data")
    return dict(data) if isinstance(data, Mapping) else {}


def _mappings(obj: Mapping[str, Any] | None) -> MappingSet:
    """What a server starting now would map from ``obj`` (a failed section maps nobody)."""
    return parse_aws_auth(_data(obj)).mapping_set


def _maps_nodes(mappings: MappingSet) -> bool:
    return any(NODES_GROUP in m.groups for m in mappings.roles) or any(NODES_GROUP in m.groups for m in mappings.users)


# -- DELETE -------------------------------------------------------------------------------------


def _judge_delete(old: Mapping[str, Any] | None) -> Verdict:
    if old is None:
        return _ALLOW
    annotations = _metadata(old).get("annotations")
    if isinstance(annotations, Mapping) and annotations.get(ALLOW_DELETE_ANNOTATION) == "true":
        return _ALLOW
    if not _maps_nodes(_mappings(old)):
        return _ALLOW
    return Verdict(
        False,
        "denied",
        f"aws-auth refused: deleting it removes every node's access (it maps {NODES_GROUP}); "
        f'to delete it anyway, first annotate it {ALLOW_DELETE_ANNOTATION}="true"',
    )


# -- CREATE and UPDATE --------------------------------------------------------------------------


class _Dumper(yaml.CSafeDumper if yaml.__with_libyaml__ else yaml.SafeDumper):  # type: ignore[misc]
    """Multi-line values as ``|`` blocks where YAML allows it (the emitter falls back to a quoted
    string otherwise, which the linter reads as well); libyaml's emitter, for 1 MiB objects."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _represent_str)


def manifest_text(data: Mapping[str, Any]) -> str:
    """The ConfigMap as a manifest for the linter: its ``data`` exactly as sent."""
    doc = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "data": dict(data),
    }
    text: str = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1 << 30)
    return text


def _judge_write(request: AdmissionRequest, *, protect_requester: bool, lint: LintConfig) -> Verdict:
    new_data = _data(request.object)
    report = lint_text(LINT_PATH, manifest_text(new_data), lint)
    target = next((t for t in report.targets if t.kind == "configmap"), None)
    errors = [f for f in report.findings if f.severity >= Severity.ERROR]
    warnings = [f for f in report.findings if f.severity == Severity.WARNING]
    reasons = [_errors_reason(errors, target)] if errors else []
    if request.operation == "UPDATE" and request.oldObject is not None:
        old_data = _data(request.oldObject)
        if old_data != new_data:
            new = _target_mappings(target) if target is not None else MappingSet()
            read_old = functools.partial(_old_mappings, old_data, new_data, target)
            reasons += _lockouts(read_old, new, request.userInfo, protect_requester)
    shown = _warnings(warnings, target)
    if reasons:
        return Verdict(False, "denied", "aws-auth refused: " + "; ".join(reasons), shown)
    if shown:
        return Verdict(True, "warned", warnings=shown)
    return _ALLOW


def _target_mappings(target: Target) -> MappingSet:
    """The mappings of the linted object: the server's reading of each section, which the linter
    already made (a failed section maps nobody, as on a first load)."""
    return _combined(lambda name: _section_mappings(target, name))


def _section_mappings(target: Target, name: str) -> _Part:
    section = target.sections.get(name)
    if section is None or section.result.error is not None:
        return _Part()
    if name == MAP_ACCOUNTS:
        return _Part(accounts=section.result.accounts)
    entries = [e.mapping for e in section.result.entries]
    return _Part(
        tuple(m for m in entries if isinstance(m, RoleMapping)), tuple(m for m in entries if isinstance(m, UserMapping))
    )


@dataclass(frozen=True, slots=True)
class _Part:
    """What one section maps."""

    roles: tuple[RoleMapping, ...] = ()
    users: tuple[UserMapping, ...] = ()
    accounts: tuple[str, ...] = ()


def _combined(part: Callable[[str], _Part]) -> MappingSet:
    parts = [part(name) for name in SECTIONS]
    return MappingSet(
        tuple(m for p in parts for m in p.roles),
        tuple(m for p in parts for m in p.users),
        tuple(a for p in parts for a in p.accounts),
    )


def _old_mappings(old_data: Mapping[str, Any], new_data: Mapping[str, Any], target: Target | None) -> MappingSet:
    """What the old object maps. A section sent unchanged maps what the linter already read in the
    new object; only the changed ones are read again (a 1 MiB mapRoles is a quarter of the work,
    and an edit to mapUsers beside it leaves it as it was)."""
    if target is None:
        return parse_aws_auth(old_data).mapping_set
    changed = {name: old_data[name] for name in SECTIONS if name in old_data and old_data[name] != new_data.get(name)}
    reread = parse_aws_auth(changed).mapping_set if changed else MappingSet()

    def part(name: str) -> _Part:
        if name not in old_data:
            return _Part()
        if name not in changed:
            return _section_mappings(target, name)
        return _Part(
            reread.roles if name == MAP_ROLES else (),
            reread.users if name == MAP_USERS else (),
            reread.accounts if name == MAP_ACCOUNTS else (),
        )

    return _combined(part)


def _lockouts(
    read_old: Callable[[], MappingSet], new: MappingSet, user: RequestUser, protect_requester: bool
) -> list[str]:
    """Why the change locks its requester or the nodes out. The old object is read only when the
    new one leaves either without access: reading a 1 MiB aws-auth is a quarter of the work."""
    requester = _requester(user) if protect_requester else None
    requester_lost = requester is not None and not _maps(new, requester)
    nodes_lost = not _maps_nodes(new)
    if not (requester_lost or nodes_lost):
        return []
    old = read_old()
    reasons = []
    if requester is not None and requester_lost and _maps(old, requester):
        who = requester.canonical_arn
        reasons.append(f"this change would remove your own access ({who} would no longer be mapped)")
    if nodes_lost and _maps_nodes(old):
        reasons.append(f"this change leaves no entry mapping {NODES_GROUP}: every node would lose access")
    return reasons


def _first(extra: Mapping[str, Sequence[str]], key: str) -> str:
    values = extra.get(key) or ()
    return values[0] if values else ""


def _requester(user: RequestUser) -> Identity | None:
    """The requester's identity as our TokenReview described it in ``extra`` (None for anyone
    else: a service account, a certificate, another authenticator, a scrubbed account)."""
    extra = user.extra or {}
    arn, canonical = _first(extra, "arn"), _first(extra, "canonicalArn")
    try:
        canonical = canonical or canonicalize(arn)
        account = parse_arn(canonical).account
    except ValueError:
        return None
    return Identity(
        arn=arn or canonical,
        canonical_arn=canonical,
        account_id=account,
        user_id=_first(extra, "principalId"),
        session_name=_first(extra, "sessionName"),
        access_key_id="",
        sts_endpoint="",
    )


def _maps(mappings: MappingSet, identity: Identity) -> bool:
    return MappingChain([StaticSource(EKS_CONFIGMAP, mappings)]).resolve(identity) is not None


# -- naming findings ----------------------------------------------------------------------------


def inner_position(section: Section, line: int, column: int) -> tuple[int, int] | None:
    """1-based (line, column) inside the section's text of the 1-based outer position, or None
    when the section is not a string. The inverse of the section's own map (monotonic), searched."""
    if section.text is None:
        return None
    lines = section.lines()
    wanted = (line - 1, column - 1)
    to_outer = section.map.to_outer
    low, high = 0, len(lines) - 1
    while low < high:  # the last inner line starting at or before the position
        mid = (low + high + 1) // 2
        if to_outer(mid, 0) <= wanted:
            low = mid
        else:
            high = mid - 1
    first, last = 0, len(lines[low])
    while first < last:  # the last column of that line at or before the position
        mid = (first + last + 1) // 2
        if to_outer(low, mid) <= wanted:
            first = mid
        else:
            last = mid - 1
    return low + 1, first + 1


def _where(finding: Finding, target: Target | None) -> str:
    if finding.section is None:
        return f"data.{finding.subject}" if finding.subject else "object"
    section = target.sections.get(finding.section) if target is not None else None
    position = inner_position(section, finding.line, finding.column) if section is not None else None
    return f"{finding.section} {position[0]}:{position[1]}" if position else finding.section


def _errors_reason(errors: list[Finding], target: Target | None) -> str:
    named = ", ".join(f"{f.rule} {_where(f, target)} {f.slug}" for f in errors[:MAX_ERRORS_NAMED])
    more = len(errors) - MAX_ERRORS_NAMED
    tail = f" and {more} more" if more > 0 else ""
    return f"{named}{tail} (run `aws-auth lint` on it for details)"


def _short(text: str) -> str:
    text = " ".join(text.split())
    # ASCII dots: the API server passes warnings on in HTTP headers
    return text if len(text) <= WARNING_LENGTH else text[: WARNING_LENGTH - 3] + "..."


def _warnings(warnings: list[Finding], target: Target | None) -> tuple[str, ...]:
    lines = [_short(f"{f.rule} {_where(f, target)} {f.slug}: {f.message}") for f in warnings]
    if len(lines) > MAX_WARNINGS:
        rest = len(lines) - (MAX_WARNINGS - 1)
        lines = [*lines[: MAX_WARNINGS - 1], f"and {rest} more warnings (run `aws-auth lint` on it)"]
    return tuple(lines)
