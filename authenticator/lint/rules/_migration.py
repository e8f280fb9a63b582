"""What ``aws-auth migrate`` would make of each entry, for the migration-readiness rules (AA8xx).

The rules and the planner share one classification (:func:`authenticator.migrate.classify.carry`),
computed once per entry. Only aws-auth ConfigMaps migrate to access entries: the server config's
own mappings and DynamicFile documents are not looked at.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from authenticator.lint.document import Entry, Target
from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import _memo, group_nodes, is_node_entry
from authenticator.lint.rules.AA402_group_typo import typo_of
from authenticator.mapping.model import RoleMapping
from authenticator.migrate.classify import Carried, Reason, ReasonCode, carry
from authenticator.migrate.source import effective

FIX_GUIDE = "see the migration guide (docs/migration.md)"


def carried(entry: Entry) -> Carried | None:
    """The access entry of a kept aws-auth entry (None when the server drops the entry)."""
    mapping = entry.result.mapping
    if mapping is None:
        return None

    def compute() -> Carried:
        if isinstance(mapping, RoleMapping) and mapping.sso is not None:
            hint = mapping.sso.permission_set_name
        else:
            arn = (mapping.rolearn if isinstance(mapping, RoleMapping) else mapping.userarn) or ""
            hint = arn.rsplit("/", 1)[-1]
        return carry(mapping.username, mapping.groups, hint=hint)

    return _memo(entry.cache, "migrate", compute)


def migrated(target: Target) -> list[Entry]:
    """The kept aws-auth entries the plan carries: effective ones only, as the server and the
    planner have them (a dead duplicate is never migrated, so never a migration blocker). Empty for
    anything but an aws-auth ConfigMap; computed once for the eight rules."""
    if target.kind != "configmap":
        return []
    return _memo(target.cache, "migrate-effective", lambda: [entry for entry, _, _ in effective(target)])


def reasons(target: Target, code: ReasonCode) -> Iterator[tuple[Entry, Reason]]:
    """(entry, reason) for every aws-auth entry the plan carries whose access entry has a reason ``code``."""
    for entry in migrated(target):
        found = carried(entry)
        if found is None or (found.type == "STANDARD" and is_node_entry(entry)):
            continue  # not kept, or a broken node entry: AA501/AA502 say what to fix first
        for reason in found.reasons:
            if reason.code == code:
                yield entry, reason


def report(ctx: RuleContext, code: ReasonCode, node_of: str | None = None) -> Iterator[Finding]:
    """One finding per entry with reason ``code``, at its ``node_of`` field (else at the entry)."""
    for entry, reason in reasons(ctx.target, code):
        yield _finding(ctx, entry, reason, entry.value_node(node_of) if node_of else None)


def group_report(ctx: RuleContext, code: ReasonCode) -> Iterator[Finding]:
    """Like :func:`report`, at the group the reason is about; a typo of a known group is AA402's."""
    for entry, reason in reasons(ctx.target, code):
        if reason.subject is not None and typo_of(reason.subject):
            continue
        nodes = [node for group, node in group_nodes(entry) if group == reason.subject]
        yield _finding(ctx, entry, reason, nodes[0] if nodes else None)


def _finding(ctx: RuleContext, entry: Entry, reason: Reason, node: yaml.Node | None) -> Finding:
    """The finding for ``reason`` at ``node`` (at the whole entry when there is none)."""
    return ctx.at_node(
        entry.section,
        node if node is not None else entry.node,
        f"cannot become an EKS access entry as it is: {reason.message}",
        entry=entry,
        fix_hint=FIX_GUIDE,
    )
