"""``aws-auth resolve --entries/--cluster/--mode``: which of the two mechanisms decides for an
identity, and what it yields.

The authentication mode says who decides (docs/migration.md): ``CONFIG_MAP`` — aws-auth alone;
``API_AND_CONFIG_MAP`` — the principal's access entry when it has one, else aws-auth; ``API`` —
the access entry alone (aws-auth is ignored). aws-auth's answer is the server's own chain
(:func:`authenticator.lint.resolve.resolve_text`); the access entry's is its username (EKS's
default when it has none) with the session-name placeholders filled in, the groups of its type
and its ``kubernetesGroups``, and its access policies. Pure but for :func:`run_access_resolve`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from authenticator.errors import UserError
from authenticator.identity import Identity
from authenticator.lint.resolve import Resolution, ResolveError
from authenticator.mapping.templates import TemplateDenied, render
from authenticator.migrate.plan import existing_policies, find_entry, index_entries
from authenticator.migrate.verify import entry_template

__all__ = ["MODES", "AccessDecision", "add_resolve_options", "decide", "run_access_resolve", "wants_access_entries"]

MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")


@dataclass(frozen=True, slots=True)
class AccessDecision:
    mode: str
    decided_by: str | None  # "access entry" | "aws-auth" | None (nobody maps the identity)
    mapped: bool
    username: str | None = None
    groups: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()  # "<policy name> (<scope>)"
    entry_arn: str | None = None
    entry_type: str | None = None
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "decidedBy": self.decided_by,
            "mapped": self.mapped,
            "username": self.username,
            "groups": list(self.groups),
            "accessPolicies": list(self.policies),
            "accessEntry": None
            if self.entry_arn is None
            else {"principalArn": self.entry_arn, "type": self.entry_type},
            "reason": self.reason,
        }


def add_resolve_options(parser: argparse.ArgumentParser) -> None:
    """The access-entry options of ``aws-auth resolve``."""
    parser.add_argument("--entries", metavar="FILE", help="the cluster's access entries, offline (JSON)")
    parser.add_argument("--cluster", metavar="NAME", help="read the cluster's access entries and mode (botocore)")
    parser.add_argument("--region", help="AWS region of --cluster")
    parser.add_argument("--profile", help="AWS profile for --cluster")
    parser.add_argument(
        "--mode",
        choices=MODES,
        help="authentication mode (default: the cluster's, else API_AND_CONFIG_MAP); all but CONFIG_MAP "
        "need --entries or --cluster",
    )


def wants_access_entries(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "entries", None) or getattr(args, "cluster", None) or getattr(args, "mode", None))


def _from_entry(identity: Identity, entry: Mapping[str, Any], mode: str) -> AccessDecision:
    kind = str(entry.get("type", "STANDARD"))
    arn = str(entry.get("principalArn", ""))
    template, groups = entry_template(entry)
    try:
        dns = f"<private DNS name of {identity.session_name}>" if identity.session_name else None
        username = render(template, identity, ec2_private_dns_name=dns)
    except TemplateDenied as err:
        return AccessDecision(mode, "access entry", False, entry_arn=arn, entry_type=kind, reason=err.reason)
    policies = tuple(
        f"{p.policy_arn.rsplit('/', 1)[-1]} ({p.scope_type}{': ' + ','.join(p.namespaces) if p.namespaces else ''})"
        for p in existing_policies(entry)
    )
    return AccessDecision(mode, "access entry", True, username, groups, policies, arn, kind)


def decide(resolution: Resolution, entries: Sequence[Mapping[str, Any]], mode: str) -> AccessDecision:
    """Which mechanism decides for ``resolution.identity`` in ``mode``, and what it yields."""
    identity = resolution.identity
    entry = find_entry(index_entries(entries), identity.canonical_arn) if mode != "CONFIG_MAP" else None
    if entry is not None:
        return _from_entry(identity, entry, mode)
    if mode == "API":
        return AccessDecision(mode, None, False, reason="no access entry, and mode API ignores aws-auth")
    if resolution.mapped:
        why = "mode CONFIG_MAP: aws-auth alone" if mode == "CONFIG_MAP" else "no access entry for this principal"
        return AccessDecision(mode, "aws-auth", True, resolution.username, resolution.groups, reason=why)
    return AccessDecision(mode, None, False, reason=resolution.reason or "identity is not mapped")


def _text(decision: AccessDecision) -> str:
    out = [f"mode:      {decision.mode}"]
    if decision.decided_by == "access entry":
        out.append(f"DECIDES:   access entry {decision.entry_arn} ({decision.entry_type})")
    elif decision.decided_by == "aws-auth":
        out.append(f"DECIDES:   aws-auth ({decision.reason})")
    if not decision.mapped:
        out.append(f"DENIED:    {decision.reason}")
        return "\n".join(out) + "\n"
    out.append(f"username:  {decision.username}")
    out.append(f"groups:    {', '.join(decision.groups) if decision.groups else '(none)'}")
    if decision.decided_by == "access entry":
        out.append(f"policies:  {', '.join(decision.policies) if decision.policies else '(none)'}")
    return "\n".join(out) + "\n"


def run_access_resolve(args: argparse.Namespace, resolution: Resolution, aws_auth_report: str, stdout: TextIO) -> int:
    """Print aws-auth's answer (``aws_auth_report``, in the chosen format) and the decision; 0 when
    the identity is mapped by the mechanism that decides, else 1."""
    if args.cluster and args.entries:
        raise ResolveError("--cluster reads the access entries: --entries is for offline use")
    if args.mode not in (None, "CONFIG_MAP") and not (args.cluster or args.entries):
        raise ResolveError(f"--mode {args.mode} looks at access entries: give --entries FILE or --cluster NAME")
    entries: Sequence[Mapping[str, Any]] = ()
    mode = args.mode
    try:
        if args.cluster:
            from authenticator.migrate.cluster import eks_client, read_cluster

            state = read_cluster(eks_client(args.region, args.profile), args.cluster)
            entries = state.entries
            mode = mode or state.authentication_mode
        elif args.entries:
            from authenticator.migrate.cluster import load_entries

            entries = load_entries(args.entries)
    except UserError as err:  # the cluster or the entries file: one line, exit 2
        raise ResolveError(str(err)) from None
    decision = decide(resolution, entries, mode or "API_AND_CONFIG_MAP")
    if args.format == "json":
        doc = json.loads(aws_auth_report)
        doc["accessEntries"] = decision.as_json()
        stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        stdout.write(aws_auth_report + _text(decision))
    return 0 if decision.mapped else 1
