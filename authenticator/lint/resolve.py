"""``aws-auth resolve``: which entry maps an identity, with the server's own mapping chain.

The identity is built the way the verifier builds it from STS's answer (docs/token.md §6): an
assumed-role ARN is folded into its role ARN by :func:`authenticator.arn.canonicalize`; a
role ARN given directly is first turned into the session ARN STS would report (STS drops the
role's path, which is exactly why entries with a path never match). The mappings come from
the same parser and the same :class:`~authenticator.mapping.chain.MappingChain` the server
runs. When nothing matches, the nearest entries are shown with the lint findings that
explain why they do not match.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import difflib
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import yaml

from authenticator.arn import canonicalize, parse_arn
from authenticator.console import PLAIN, Palette
from authenticator.errors import UserError
from authenticator.identity import Identity
from authenticator.lint.document import Entry, Target, load_targets
from authenticator.lint.engine import lint_text
from authenticator.lint.findings import Finding, Severity
from authenticator.mapping.awsauth import parse_aws_auth
from authenticator.mapping.chain import (
    MappingChain,
    MappingDenied,
    MappingSource,
    Match,
)
from authenticator.mapping.model import MappingSet, RoleMapping
from authenticator.mapping.sources.dynamicfile import DynamicFileError, parse_dynamic_file
from authenticator.mapping.sources.modes import DYNAMIC_FILE, EKS_CONFIGMAP
from authenticator.mapping.templates import EC2_PLACEHOLDER
from authenticator.mapping.yamlv2 import AwsAuthLoader

__all__ = ["Resolution", "ResolveError", "StaticSource", "identity_for", "resolve_text", "run_resolve"]

DEFAULT_SESSION = "session"
# The session name shown for a node role when none is given: nodes assume their role with their
# instance id as the session name, and only such a session maps through {{EC2PrivateDNSName}}.
EXAMPLE_INSTANCE = "i-0123456789abcdef0"
_CLUSTER_ID = "aws-auth-resolve"


class ResolveError(UserError):
    """Bad ARN or unusable input: exit 2."""


@dataclass
class StaticSource:
    """A MappingSource holding fixed mappings: one parsed file, as the server's source would hold it."""

    name: str
    mappings: MappingSet
    ready: bool = True

    def snapshot(self) -> MappingSet:
        return self.mappings


@dataclass
class Nearest:
    entry: Entry
    arn: str
    score: float
    findings: list[Finding]


@dataclass
class Resolution:
    identity: Identity
    note: str | None
    mapped: bool
    match: Match | None = None
    username: str | None = None
    groups: tuple[str, ...] = ()
    reason: str | None = None
    entry: Entry | None = None
    nearest: list[Nearest] = field(default_factory=list)
    section_findings: list[Finding] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # whole files the server refuses
    source: str | None = None  # what the matching entry was read from, named as what it is
    source_path: str | None = None
    explanation: str | None = None  # why a denial is expected (a node role asked for a person)


def identity_for(
    arn: str, *, session_name: str | None = None, access_key_id: str | None = None
) -> tuple[Identity, str | None]:
    """(identity as the verifier would build it, an explanatory note or None). Raises ResolveError."""
    arn = arn.strip()
    try:
        parsed = parse_arn(arn)
        canonicalize(arn)
    except ValueError as err:
        raise ResolveError(str(err)) from None
    note = None
    kind = parsed.resource.split("/", 1)[0]
    session = ""
    sts_arn = arn
    if parsed.service == "iam" and kind == "role":
        name = parsed.resource.rsplit("/", 1)[1]
        session = session_name or DEFAULT_SESSION
        sts_arn = f"arn:{parsed.partition}:sts::{parsed.account}:assumed-role/{name}/{session}"
        if parsed.resource.count("/") > 1:
            note = f"STS drops the role's path: callers of this role are seen as {sts_arn}"
        elif session_name is None:
            note = f"assuming the role with session name {session!r} (use --session-name)"
    elif parsed.service == "sts" and kind == "assumed-role":
        session = session_name or parsed.resource.rsplit("/", 1)[1]
        if session_name:
            role = parsed.resource.split("/")[1:-1]
            sts_arn = f"arn:{parsed.partition}:sts::{parsed.account}:assumed-role/{'/'.join(role)}/{session}"
    canonical = canonicalize(sts_arn)
    user_id = "AROARESOLVE" if session else "AIDARESOLVE"
    identity = Identity(
        arn=sts_arn,
        canonical_arn=canonical,
        account_id=parsed.account,
        user_id=user_id,
        session_name=session,
        access_key_id=access_key_id or "",
        sts_endpoint="sts.amazonaws.com",
    )
    return identity, note


def _construct(node: yaml.Node | None) -> object:
    if node is None:
        return None
    return AwsAuthLoader("").construct_document(node)


def _source_for(target: Target) -> tuple[MappingSource, dict[str, tuple[str, ...]]]:
    """The server's source for one target, and its reserved prefixes."""
    if target.kind == "configmap":
        data = _construct(target.data_node)
        data = {str(k): v for k, v in data.items()} if isinstance(data, dict) else {}
        return StaticSource(EKS_CONFIGMAP, parse_aws_auth(data).mapping_set), {}
    if target.kind == "dynamicfile":
        # The DynamicFile source's own reader (all or nothing); a rejected file maps nobody.
        try:
            content = parse_dynamic_file(target.text)
        except DynamicFileError:
            return StaticSource(DYNAMIC_FILE, MappingSet()), {}
        return StaticSource(DYNAMIC_FILE, MappingSet(content.roles, content.users, content.accounts)), {}
    # The server config file, read by the server's own loader; its MountedFile source, strict as at start.
    from authenticator.server.composition import build_mounted_file_source
    from authenticator.server.config import load_config_text

    try:
        # As if started with -i: the cluster id plays no part in mapping, and may come from the flag.
        config, _ = load_config_text(_document_text(target), target.path, {"cluster_id": _CLUSTER_ID})
        # awsAuthFile is used as written, as the server does: relative to the working directory.
        source = build_mounted_file_source(config)
    except (UserError, UnicodeDecodeError) as err:
        raise ResolveError(f"the server would refuse to start: {err}") from None
    return source, dict(config.reserved_prefix_config)


def _document_text(target: Target) -> str:
    """The text of the target's own YAML document, at its own indentation (a file may hold several)."""
    assert target.root is not None
    start, end = target.root.start_mark, target.root.end_mark
    return " " * start.column + target.text[start.index : end.index]


def _entry_of(targets: list[Target], match: Match) -> Entry | None:
    found = None
    for target in targets:
        for entry in target.entries():
            if entry.result.mapping is not None and entry.result.mapping == match.entry:
                found = entry  # the last equal one: duplicates resolve to the last entry
    return found


def _label(entry: Entry) -> str:
    mapping = entry.result.mapping
    if isinstance(mapping, RoleMapping) and mapping.sso is not None:
        s = mapping.sso
        return f"arn:{s.partition}:iam::{s.account_id}:role/AWSReservedSSO_{s.permission_set_name}_<16 hex>"
    return entry.arn or str(entry.result.fields.get("rolearn") or entry.result.fields.get("userarn") or "")


def _normalised(arn: str) -> str:
    """The ARN as a caller would present it, if the entry's usual mistakes were fixed."""
    arn = arn.strip().strip("'\"").strip()
    with contextlib.suppress(ValueError):
        arn = canonicalize(arn)
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[5].startswith("role/"):
        parts[5] = "role/" + parts[5].rsplit("/", 1)[1]
    return ":".join(parts).lower()


def _kind(arn: str) -> str:
    """``role`` or ``user`` (or another resource type) of an ARN, in lower case."""
    return arn.split(":", 5)[-1].split("/", 1)[0].lower()


def _nearest(targets: list[Target], canonical: str, findings: list[Finding]) -> list[Nearest]:
    scored: list[Nearest] = []
    kind = _kind(canonical)
    for target in targets:
        for entry in target.entries():
            label = _label(entry)
            if not label:
                continue
            if _normalised(label) == canonical.lower():
                score = 1.0  # would match once the entry's mistake is fixed
            elif {_kind(_normalised(label)), kind} == {"role", "user"}:
                continue  # a role's entry never matches a user, nor a user's a role: it explains nothing
            else:
                score = difflib.SequenceMatcher(None, canonical.lower(), label.lower()).ratio()
            mine = [
                f
                for f in findings
                if f.section == entry.section.label and f.entry_index == entry.index and f.severity >= Severity.WARNING
            ]
            scored.append(Nearest(entry, label, score, mine))
    scored.sort(key=lambda n: -n.score)
    return [n for n in scored[:3] if n.score >= 0.5]


async def _fake_ec2(instance_id: str) -> str:
    return f"<private DNS name of {instance_id}>"


def _sections_of(identity: Identity) -> tuple[str, ...]:
    """The sections the server looks an identity up in: roles for a session, users otherwise."""
    return ("mapRoles", "mapAccounts") if identity.session_name else ("mapUsers", "mapAccounts")


def _concerns(finding: Finding, sections: tuple[str, ...]) -> bool:
    """A section-level finding that can explain a denial of an identity looked up in ``sections``
    (a finding about the whole object, such as a misspelt data key, concerns every identity)."""
    if finding.entry_index is not None or finding.rule >= "AA100":
        return False
    return finding.section is None or finding.section.rsplit(".", 1)[-1] in sections


def _source_of(target: Target, via: dict[str, str]) -> str:
    """The source a target stands for, named as what it is: a file is not the cluster's ConfigMap.
    ``via``: awsAuthFile path -> the server config that names it."""
    where = "on stdin" if target.path == "-" else target.path
    if target.kind == "configmap":
        config = via.get(target.path)
        return f"aws-auth ConfigMap manifest {where}" + (f", the awsAuthFile of {config}" if config else "")
    if target.kind == "dynamicfile":
        return f"DynamicFile {where}"
    return f"server config {where}"


def _account_target(targets: list[Target], account: str) -> Target | None:
    for target in targets:
        section = target.sections.get("mapAccounts")
        if section is not None and account in section.result.accounts:
            return target
    return None


def _uses_ec2_name(entry: Entry | None) -> bool:
    if entry is None or entry.result.mapping is None:
        return False
    mapping = entry.result.mapping
    return any(EC2_PLACEHOLDER in t for t in (mapping.username, *mapping.groups))


def resolve_text(
    path: str, text: str, arn: str, *, session_name: str | None = None, access_key_id: str | None = None
) -> Resolution:
    result = _resolve(path, text, arn, session_name=session_name, access_key_id=access_key_id)
    if result.mapped or result.reason is None or not _uses_ec2_name(result.entry):
        return result
    node_note = (
        "a node role: nodes assume it with their EC2 instance id as the session name, and only such "
        "sessions map (the server then looks up the instance's private DNS name)"
    )
    if session_name is None and ":role/" in arn:
        # Not an alarm: the node role asked for as a person. Show what a node gets.
        shown = _resolve(path, text, arn, session_name=EXAMPLE_INSTANCE, access_key_id=access_key_id)
        shown.note = f"{node_note}; shown for the instance {EXAMPLE_INSTANCE} (use --session-name)"
        return shown
    result.explanation = f"{node_note}; {result.identity.session_name!r} is not an instance id"
    return result


def _resolve(
    path: str, text: str, arn: str, *, session_name: str | None = None, access_key_id: str | None = None
) -> Resolution:
    identity, note = identity_for(arn, session_name=session_name, access_key_id=access_key_id)
    targets = [t for t in load_targets(path, text) if t.kind != "invalid"]
    if not targets:
        raise ResolveError(f"{path}: no aws-auth ConfigMap, server config or DynamicFile mappings found")
    sources: list[MappingSource] = []
    reserved: dict[str, tuple[str, ...]] = {}
    extra_findings: list[Finding] = []
    via: dict[str, str] = {}  # awsAuthFile -> the server config naming it
    for target in list(targets):
        source, prefixes = _source_for(target)
        sources.append(source)
        reserved.update(prefixes)
        aws_auth_file = getattr(source, "aws_auth_file", None)
        if aws_auth_file:
            # Entries of the server's awsAuthFile: shown and explained like the config's own.
            with contextlib.suppress(OSError, UnicodeDecodeError):
                extra = Path(aws_auth_file).read_text(encoding="utf-8")
                targets += [t for t in load_targets(aws_auth_file, extra) if t.kind == "configmap"]
                via[aws_auth_file] = target.path
                extra_findings.extend(lint_text(aws_auth_file, extra).findings)
    chain = MappingChain(sources, reserved_prefixes=reserved)
    findings = lint_text(path, text).findings + extra_findings
    # Section-level problems (a section the server drops) explain a denial, when the server
    # would have looked for this identity in that section.
    sections = _sections_of(identity)
    section_findings = [f for f in findings if _concerns(f, sections)]
    rejected = [
        f"{t.path}: the DynamicFile source rejects the whole file ({where}: {why})"
        for t in targets
        if t.kind == "dynamicfile"
        for where, why in list(t.startup_problems.items())[:1]
    ]
    try:
        mapped = asyncio.run(chain.map(identity, ec2_private_dns_name=_fake_ec2))
    except MappingDenied as denied:
        result = Resolution(identity, note, False, match=denied.match, reason=denied.reason, rejected=rejected)
        if denied.match is None:
            result.nearest = _nearest(targets, identity.canonical_arn, findings)
        else:
            result.entry = _entry_of(targets, denied.match)
            _name_source(result, targets, via)
        result.section_findings = section_findings
        return result
    result = Resolution(identity, note, True, mapped.match, mapped.username, mapped.groups)
    result.entry = _entry_of(targets, mapped.match)
    _name_source(result, targets, via)
    return result


def _name_source(result: Resolution, targets: list[Target], via: dict[str, str]) -> None:
    if result.entry is not None:
        target: Target | None = result.entry.section.target
    else:
        target = _account_target(targets, result.identity.account_id)
    if target is not None:
        result.source, result.source_path = _source_of(target, via), target.path


def _where(entry: Entry | None) -> str:
    if entry is None:
        return ""
    line, _ = entry.section.pos(entry.node)
    path = entry.section.target.path
    return f"{entry.section.label}[{entry.index}] at {'stdin' if path == '-' else path}:{line}"


def _text(result: Resolution, palette: Palette = PLAIN) -> str:
    ident = result.identity
    out = [
        f"identity:  {ident.arn}",
        f"matched as {ident.canonical_arn}" + (f" (session {ident.session_name!r})" if ident.session_name else ""),
    ]
    if result.note:
        out.append(f"note:      {result.note}")
    source = result.source or (result.match.source if result.match else "")
    if result.mapped and result.match is not None:
        if result.match.kind == "account":
            out.append(f"{palette.good('MAPPED')} by mapAccounts of {source}: account {ident.account_id} is listed")
        else:
            out.append(f"{palette.good('MAPPED')} by {result.match.kind} entry {_where(result.entry)} ({source})")
        out.append(f"username:  {palette.bold(result.username or '')}")
        out.append(f"groups:    {', '.join(result.groups) if result.groups else '(none)'}")
        return "\n".join(out) + "\n"
    out.append(f"{palette.bad('DENIED')}:    {result.reason}")
    if result.explanation:
        out.append(f"why:       {result.explanation}")
    for line in result.rejected:
        out.append(f"  {line}")
    if result.entry is not None:
        out.append(f"entry:     {_where(result.entry)} ({source})")
    for finding in result.section_findings:
        out.append(f"  {_finding_line(finding, palette)}")
    if result.match is None:
        if result.nearest:
            out.append("nearest entries:")
        for near in result.nearest:
            out.append(f"  {_where(near.entry)}: {near.arn} (similarity {near.score:.2f})")
            for f in near.findings:
                out.append(f"    {_finding_line(f, palette)}")
            if not near.findings and near.arn.lower() == ident.canonical_arn.lower():
                out.append("    names this ARN, but the server does not load it (see above)")
            elif not near.findings:
                out.append(f"    differs from {ident.canonical_arn}")
        if not result.nearest:
            out.append("no entry is close to this ARN")
    return "\n".join(out) + "\n"


def _finding_line(finding: Finding, palette: Palette) -> str:
    what = palette.severity(f"{finding.rule} {finding.slug}", finding.severity.label)
    return f"{finding.path}:{finding.line}:{finding.column}: {what}: {finding.message}"


def _json(result: Resolution) -> str:
    ident = result.identity

    def where(entry: Entry | None) -> dict[str, object] | None:
        if entry is None:
            return None
        return {
            "path": entry.section.target.path,
            "section": entry.section.label,
            "index": entry.index,
            "line": entry.section.pos(entry.node)[0],
        }

    doc = {
        "identity": {"arn": ident.arn, "canonical_arn": ident.canonical_arn, "session_name": ident.session_name},
        "note": result.note,
        "mapped": result.mapped,
        "kind": result.match.kind if result.match else None,
        "source": result.source or (result.match.source if result.match else None),
        "source_path": result.source_path,
        "explanation": result.explanation,
        "entry": where(result.entry),
        "username": result.username,
        "groups": list(result.groups),
        "reason": result.reason,
        "nearest": [
            {
                "arn": n.arn,
                "score": round(n.score, 3),
                "entry": where(n.entry),
                "findings": [{"rule": f.rule, "line": f.line, "message": f.message} for f in n.findings],
            }
            for n in result.nearest
        ],
        "section_findings": [{"rule": f.rule, "line": f.line, "message": f.message} for f in result.section_findings],
        "rejected": result.rejected,
    }
    return json.dumps(doc, indent=2) + "\n"


def run_resolve(args: argparse.Namespace, stdout: TextIO, *, palette: Palette = PLAIN) -> int:
    """``aws-auth resolve``: 0 mapped, 1 denied; ``ResolveError`` for an unreadable file or a bad ARN
    (the command line maps it to exit 2)."""
    # The sources log load warnings for the server's operators; here the findings say it better.
    logging.getLogger("authenticator.mapping").addHandler(logging.NullHandler())

    try:
        text = Path(args.path).read_text(encoding="utf-8") if args.path != "-" else sys.stdin.read()
    except (OSError, UnicodeDecodeError) as err:
        raise ResolveError(f"{args.path}: {getattr(err, 'strerror', None) or err}") from None
    result = resolve_text(args.path, text, args.arn, session_name=args.session_name, access_key_id=args.access_key_id)
    report = _json(result) if args.format == "json" else _text(result, palette)
    from authenticator.migrate.access import run_access_resolve, wants_access_entries

    if wants_access_entries(args):  # --entries/--cluster/--mode: which mechanism decides
        return run_access_resolve(args, result, report, stdout)
    stdout.write(report)
    return 0 if result.mapped else 1
