"""The migration plan: one row per effective aws-auth entry (and per mapAccounts account).

Pure: the effective entries (:mod:`authenticator.migrate.source`), what is known of the cluster
(its existing access entries, managed node roles, account, partition) and two optional IAM
lookups, injected as plain functions, go in; a :class:`Plan` comes out. Reading the cluster and
asking IAM are the edges' business (:mod:`authenticator.migrate.cluster`, ``iam``).

Actions: ``create`` (a new access entry), ``exists`` (the cluster already has the same one),
``skip-managed`` (EKS creates it for a managed node group or Fargate profile), ``manual`` (it
cannot be carried as it is: see the reasons), ``conflict`` (an entry exists and differs),
``blocked`` (mapAccounts: no access-entry equivalent).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from authenticator.mapping.model import RoleMapping, SSOMatcher, UserMapping
from authenticator.migrate.classify import NODE_TYPES, Carried, EntryType, Reason, carry, policy_arn
from authenticator.migrate.source import AwsAuthEntries, EffectiveEntry

__all__ = [
    "ACTIONS",
    "AccessPolicy",
    "Action",
    "ClusterFacts",
    "Plan",
    "Row",
    "build_plan",
    "differences",
    "existing_policies",
    "find_entry",
    "index_entries",
    "principal_name_key",
]

Action = Literal["create", "exists", "skip-managed", "manual", "conflict", "blocked"]
ACTIONS: tuple[Action, ...] = ("create", "exists", "skip-managed", "manual", "conflict", "blocked")
FAILING: frozenset[str] = frozenset({"manual", "conflict", "blocked"})

_PRINCIPAL = re.compile(r"^arn:(?P<partition>[a-z-]+):iam::(?P<account>[0-9]{12}):(?P<kind>role|user)/(?P<rest>.+)$")


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    policy_arn: str
    scope_type: str = "cluster"  # "cluster" | "namespace"
    namespaces: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "policyArn": self.policy_arn,
            "accessScope": {"type": self.scope_type, "namespaces": list(self.namespaces)},
        }


@dataclass(frozen=True, slots=True)
class Row:
    action: Action
    principal_arn: str
    type: EntryType | None
    username: str | None
    groups: tuple[str, ...]
    policies: tuple[AccessPolicy, ...]
    source: str
    line: int
    reasons: tuple[Reason, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "principalArn": self.principal_arn,
            "type": self.type,
            "username": self.username,
            "kubernetesGroups": list(self.groups),
            "accessPolicies": [p.as_json() for p in self.policies],
            "source": self.source,
            "line": self.line,
            "reasons": [str(r) for r in self.reasons],
        }


@dataclass(frozen=True, slots=True)
class ClusterFacts:
    """What the planner knows of the cluster; every field may be unknown (offline plan)."""

    name: str | None = None
    account: str | None = None
    partition: str | None = None
    authentication_mode: str | None = None
    entries: tuple[Mapping[str, Any], ...] = ()  # DescribeAccessEntry accessEntry (+ associatedAccessPolicies)
    managed_role_arns: frozenset[str] = frozenset()

    @classmethod
    def of(cls, state: Any) -> ClusterFacts:
        """From a ``ClusterState`` (:mod:`authenticator.migrate.cluster`) or anything shaped like it."""
        return cls(
            name=state.name,
            account=state.account,
            partition=state.partition,
            authentication_mode=state.authentication_mode,
            entries=tuple(state.entries),
            managed_role_arns=frozenset(state.managed_role_arns),
        )


@dataclass(frozen=True, slots=True)
class Plan:
    cluster: str | None
    authentication_mode: str | None
    rows: tuple[Row, ...]
    summary: Mapping[str, int] = field(init=False)

    def __post_init__(self) -> None:
        counts = Counter(r.action for r in self.rows)
        object.__setattr__(self, "summary", {a: counts[a] for a in ACTIONS if counts[a]})

    @property
    def ready_for_api_mode(self) -> bool:
        """Nothing left to do: aws-auth could be ignored (mode API) without anyone losing access."""
        return all(r.action in ("exists", "skip-managed") for r in self.rows)

    @property
    def exit_code(self) -> int:
        return 1 if any(r.action in FAILING for r in self.rows) else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "authenticationMode": self.authentication_mode,
            "rows": [r.as_json() for r in self.rows],
            "summary": dict(self.summary),
            "readyForApiMode": self.ready_for_api_mode,
        }


def principal_name_key(arn: str) -> tuple[str, str, str, str] | None:
    """(partition, account, kind, name), lowercased, of an IAM role/user ARN, ignoring the path:
    aws-auth writes role ARNs without it, EKS and IAM with it."""
    match = _PRINCIPAL.match(arn.strip())
    if match is None:
        return None
    name = match.group("rest").rsplit("/", 1)[-1]
    return match.group("partition"), match.group("account"), match.group("kind"), name.lower()


EntryIndex = dict[tuple[str, str, str, str] | str, Mapping[str, Any]]


def index_entries(entries: Iterable[Mapping[str, Any]]) -> EntryIndex:
    """Access entries by principal: the path aside for IAM ARNs (see :func:`principal_name_key`),
    else the lowercased ARN. Look one up with :func:`find_entry`."""
    return {_lookup_key(str(entry.get("principalArn", ""))): entry for entry in entries}


def find_entry(index: EntryIndex, arn: str) -> Mapping[str, Any] | None:
    """The access entry of the principal ``arn`` names, whatever path either ARN has."""
    return index.get(_lookup_key(arn))


def _lookup_key(arn: str) -> tuple[str, str, str, str] | str:
    return principal_name_key(arn) or arn.lower()


def existing_policies(entry: Mapping[str, Any]) -> tuple[AccessPolicy, ...]:
    out: list[AccessPolicy] = []
    for item in entry.get("associatedAccessPolicies") or ():
        scope = item.get("accessScope") or {}
        out.append(
            AccessPolicy(
                str(item.get("policyArn", "")),
                str(scope.get("type", "cluster")),
                tuple(sorted(scope.get("namespaces") or ())),
            )
        )
    return tuple(out)


def differences(row: Row, entry: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    if entry.get("type", "STANDARD") != row.type:
        found.append(f"type is {entry.get('type')}, wanted {row.type} (a type cannot change: delete and recreate)")
    if row.username is not None and entry.get("username") != row.username:
        found.append(f"username is {entry.get('username')!r}, wanted {row.username!r}")
    have_groups = set(entry.get("kubernetesGroups") or ())
    if row.type not in NODE_TYPES and have_groups != set(row.groups):
        found.append(f"kubernetesGroups are {sorted(have_groups)}, wanted {sorted(row.groups)}")
    have = set(existing_policies(entry))
    want = set(row.policies)
    if have != want:
        found.append(
            f"access policies are {sorted(p.policy_arn for p in have)}, wanted {sorted(p.policy_arn for p in want)}"
        )
    return found


class _Planner:
    def __init__(
        self,
        cluster: ClusterFacts,
        resolve_role: Callable[[str], str | None] | None,
        sso_roles: Callable[[SSOMatcher], Sequence[str]] | None,
    ) -> None:
        self.cluster = cluster
        self.resolve_role = resolve_role
        self.sso_roles = sso_roles
        self.existing = index_entries(cluster.entries)
        self.managed = {k for k in (principal_name_key(a) for a in cluster.managed_role_arns) if k is not None}

    # -- one principal ------------------------------------------------------------------------

    def row(self, entry: EffectiveEntry, arn: str, *, extra: Iterable[Reason] = (), path_known: bool = False) -> Row:
        mapping = entry.mapping
        key = principal_name_key(arn)
        name = key[3] if key else "migrated"
        carried: Carried = carry(mapping.username, mapping.groups, hint=name)
        reasons: list[Reason] = [*extra]
        if entry.shadowed:
            dead = ", ".join(entry.shadowed)
            verb = "maps the same principal and is" if len(entry.shadowed) == 1 else "map the same principal and are"
            message = f"{dead} {verb} dead today: this row is {entry.source}, the entry the server uses"
            reasons.append(Reason("duplicate", message))
        reasons.extend(carried.reasons)
        partition = (key[0] if key else None) or self.cluster.partition or "aws"
        policies = tuple(AccessPolicy(policy_arn(p, partition)) for p in carried.policies)
        row = Row(
            "manual" if carried.manual else "create",
            arn,
            carried.type,
            carried.username,
            carried.groups,
            policies,
            entry.source,
            entry.line,
        )
        if key is None:
            reasons.append(
                Reason(
                    "invalid-principal",
                    f"{arn!r} is not an IAM role or user ARN (arn:<partition>:iam::<account>:role|user/<name>)",
                    blocking=True,
                )
            )
            return replace(row, action="manual", reasons=tuple(reasons))
        if key in self.managed:
            reasons.append(Reason("managed", "role of a managed node group or Fargate profile: EKS creates its entry"))
            return replace(row, action="skip-managed", reasons=tuple(reasons))
        existing = self.existing.get(key)
        if existing is not None:
            # The cluster knows the principal's full ARN, path included.
            row = replace(row, principal_arn=str(existing.get("principalArn", arn)))
            path_known = True
        elif key[2] == "role" and not path_known:
            row, reasons = self._resolve_path(row, reasons)
        if self.cluster.partition and key[0] != self.cluster.partition:
            reasons.append(
                Reason(
                    "other-partition",
                    f"{arn} is in partition {key[0]}, the cluster in {self.cluster.partition}: EKS refuses the "
                    "entry, and the principal cannot sign in to this cluster today either (remove the entry)",
                    blocking=True,
                )
            )
            row = replace(row, action="manual")
        elif row.type in NODE_TYPES and key[2] == "user":
            reasons.append(
                Reason(
                    "node-entry-user",
                    f"a {row.type} entry must be an IAM role; {arn} is a user (run the nodes with a role, "
                    "or map the user as a STANDARD entry with a username of its own)",
                    blocking=True,
                )
            )
            row = replace(row, action="manual")
        elif row.type in NODE_TYPES and self.cluster.account and key[1] != self.cluster.account:
            reasons.append(
                Reason(
                    "cross-account-node-role",
                    f"a {row.type} entry must be in the cluster's account {self.cluster.account}, not {key[1]}",
                    blocking=True,
                )
            )
            row = replace(row, action="manual")
        if existing is not None:
            if row.action == "manual":
                reasons.append(Reason("existing-entry", "an access entry already exists for it: check it by hand"))
            else:
                found = differences(row, existing)
                if found:
                    reasons.extend(Reason("existing-entry", d, blocking=True) for d in found)
                    row = replace(row, action="conflict")
                else:
                    reasons.append(Reason("existing-entry", "the cluster already has this access entry"))
                    row = replace(row, action="exists")
        return replace(row, reasons=tuple(reasons))

    def _resolve_path(self, row: Row, reasons: list[Reason]) -> tuple[Row, list[Reason]]:
        arn = row.principal_arn
        has_path = arn.split(":", 5)[5].count("/") > 1
        if has_path:
            reasons.append(
                Reason(
                    "role-path-never-matched",
                    "the aws-auth ARN has a path, so it never matched today: the access entry would grant new access",
                )
            )
            return row, reasons
        if self.resolve_role is None:
            reasons.append(
                Reason(
                    "role-path-unknown",
                    "aws-auth holds no role path; the entry uses the ARN without one "
                    "(use --resolve-paths when the role has a path)",
                )
            )
            return row, reasons
        full = self.resolve_role(arn)
        if full is None:
            reasons.append(Reason("role-unknown-to-iam", f"IAM does not know the role {arn}", blocking=True))
            return replace(row, action="manual"), reasons
        return replace(row, principal_arn=full), reasons

    # -- each kind of entry --------------------------------------------------------------------

    def rows_for(self, entry: EffectiveEntry, explicit_roles: set[tuple[str, str, str, str]]) -> list[Row]:
        mapping = entry.mapping
        if isinstance(mapping, UserMapping):
            return [self.row(entry, mapping.userarn.strip(), path_known=True)]
        if mapping.rolearn is not None:
            return [self.row(entry, mapping.rolearn.strip())]
        assert mapping.sso is not None
        return self._sso_rows(entry, mapping, mapping.sso, explicit_roles)

    def _sso_rows(
        self,
        entry: EffectiveEntry,
        mapping: RoleMapping,
        sso: SSOMatcher,
        explicit_roles: set[tuple[str, str, str, str]],
    ) -> list[Row]:
        pattern = f"arn:{sso.partition}:iam::{sso.account_id}:role/AWSReservedSSO_{sso.permission_set_name}_*"
        if self.sso_roles is None:
            carried = carry(mapping.username, mapping.groups, hint=sso.permission_set_name)
            reason = Reason(
                "sso-needs-iam",
                f"the sso matcher for permission set {sso.permission_set_name!r} covers roles only IAM can list "
                "(use --resolve-paths)",
                blocking=True,
            )
            return [
                Row(
                    "manual",
                    pattern,
                    "STANDARD",
                    carried.username,
                    carried.groups,
                    tuple(AccessPolicy(policy_arn(p, sso.partition)) for p in carried.policies),
                    entry.source,
                    entry.line,
                    (reason, *carried.reasons),
                )
            ]
        rows: list[Row] = []
        for arn in sorted(self.sso_roles(sso)):
            key = principal_name_key(arn)
            if key is not None and key in explicit_roles:
                continue  # an explicit rolearn beats the sso matcher (the chain's order)
            note = Reason("sso-role", f"one of the roles of sso permission set {sso.permission_set_name!r}")
            rows.append(self.row(entry, arn, extra=(note,), path_known=True))
        if not rows:
            reason = Reason(
                "role-unknown-to-iam",
                f"IAM lists no role for sso permission set {sso.permission_set_name!r} in account {sso.account_id}",
                blocking=True,
            )
            rows.append(Row("manual", pattern, "STANDARD", None, (), (), entry.source, entry.line, (reason,)))
        return rows


def build_plan(
    aws_auth: AwsAuthEntries,
    cluster: ClusterFacts | None = None,
    *,
    resolve_role: Callable[[str], str | None] | None = None,
    sso_roles: Callable[[SSOMatcher], Sequence[str]] | None = None,
) -> Plan:
    """The plan for the effective aws-auth entries against what is known of the cluster (pure
    but for the injected IAM lookups: ``resolve_role`` (ARN without path -> full ARN, None when
    IAM does not know it) and ``sso_roles`` (matcher -> the full ARNs of its roles))."""
    cluster = cluster or ClusterFacts()
    planner = _Planner(cluster, resolve_role, sso_roles)
    explicit_roles = {
        key
        for e in aws_auth.entries
        if isinstance(e.mapping, RoleMapping) and e.mapping.rolearn
        for key in [principal_name_key(e.mapping.rolearn)]
        if key is not None
    }
    rows: list[Row] = []
    for entry in aws_auth.entries:
        rows.extend(planner.rows_for(entry, explicit_roles))
    partition = cluster.partition or "aws"
    for account in aws_auth.accounts:
        reason = Reason(
            "map-accounts",
            f"every principal of account {account.account} is mapped (as its ARN, no groups); access entries have no "
            "equivalent: map the roles that need access instead. The cluster cannot move to API while this is needed",
            blocking=True,
        )
        rows.append(
            Row(
                "blocked",
                f"arn:{partition}:iam::{account.account}:root",
                None,
                None,
                (),
                (),
                account.source,
                account.line,
                (reason,),
            )
        )
    return Plan(cluster.name, cluster.authentication_mode, tuple(rows))
