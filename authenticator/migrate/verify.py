"""``aws-auth migrate --verify``: for every principal, what aws-auth gives it today beside what the
access entries would give it once aws-auth is ignored (mode ``API``), and every difference.

"Today" is the server's own chain (:class:`authenticator.mapping.chain.MappingChain`) over the
effective aws-auth entries, asked with the identity the verifier would build for the principal;
"after" is the principal's access entry: its username (EKS's default when it has none), the
groups of its type and its ``kubernetesGroups``, and its access policies. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from authenticator.errors import UserError
from authenticator.lint.resolve import StaticSource, identity_for
from authenticator.mapping.chain import MappingChain
from authenticator.mapping.model import MappingSet, RoleMapping, UserMapping
from authenticator.mapping.sources.modes import EKS_CONFIGMAP
from authenticator.migrate.classify import CLUSTER_ADMIN, MASTERS, TYPE_GROUPS, TYPE_USERNAMES
from authenticator.migrate.plan import Plan, existing_policies, find_entry, index_entries
from authenticator.migrate.source import AwsAuthEntries
from authenticator.words import counted

__all__ = ["Comparison", "compare", "default_username", "entry_template", "render_verify"]


@dataclass(frozen=True, slots=True)
class Comparison:
    principal_arn: str
    source: str
    today_username: str | None  # None: not mapped today
    today_groups: tuple[str, ...]
    after_username: str | None  # None: no access entry
    after_groups: tuple[str, ...]
    after_policies: tuple[str, ...]
    differences: tuple[str, ...]
    loses_access: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "principalArn": self.principal_arn,
            "source": self.source,
            "today": {"username": self.today_username, "groups": list(self.today_groups)},
            "accessEntry": (
                None
                if self.after_username is None
                else {
                    "username": self.after_username,
                    "groups": list(self.after_groups),
                    "accessPolicies": list(self.after_policies),
                }
            ),
            "differences": list(self.differences),
            "losesAccess": self.loses_access,
        }


def default_username(principal_arn: str) -> str:
    """The username EKS gives a STANDARD entry without one: the user ARN, or the assumed-role session ARN."""
    parts = principal_arn.split(":", 5)
    if len(parts) == 6 and parts[5].startswith("role/"):
        name = parts[5].rsplit("/", 1)[-1]
        return f"arn:{parts[1]}:sts::{parts[4]}:assumed-role/{name}/{{{{SessionName}}}}"
    return principal_arn


def entry_template(entry: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """The username template and groups an access entry gives: EKS's own for a node type, else
    its username (EKS's default when it has none) and ``kubernetesGroups``."""
    kind = str(entry.get("type", "STANDARD"))
    if kind in TYPE_GROUPS:
        return TYPE_USERNAMES[kind], tuple(sorted(TYPE_GROUPS[kind]))
    username = entry.get("username") or default_username(str(entry.get("principalArn", "")))
    return str(username), tuple(entry.get("kubernetesGroups") or ())


def _after(entry: Mapping[str, Any]) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    username, groups = entry_template(entry)
    if str(entry.get("type", "STANDARD")) in TYPE_GROUPS:
        return username, groups, ()
    policies = tuple(p.policy_arn.rsplit("/", 1)[-1] for p in existing_policies(entry) if p.scope_type == "cluster")
    return username, groups, policies


def _today(chain: MappingChain, arn: str) -> tuple[str, tuple[str, ...]] | None:
    try:
        identity, _ = identity_for(arn)
    except UserError:  # not an ARN STS could report: nobody presents it today
        return None
    match = chain.resolve(identity)
    if match is None:
        return None
    return match.username, match.groups


def compare(aws_auth: AwsAuthEntries, plan: Plan, entries: Sequence[Mapping[str, Any]]) -> list[Comparison]:
    """One comparison per plan row (``blocked`` rows: every principal of the account loses access)."""
    roles = tuple(e.mapping for e in aws_auth.entries if isinstance(e.mapping, RoleMapping))
    users = tuple(e.mapping for e in aws_auth.entries if isinstance(e.mapping, UserMapping))
    chain = MappingChain(
        [StaticSource(EKS_CONFIGMAP, MappingSet(roles, users, tuple(a.account for a in aws_auth.accounts)))]
    )
    by_principal = index_entries(entries)
    out: list[Comparison] = []
    for row in plan.rows:
        if row.action == "blocked":
            out.append(
                Comparison(
                    row.principal_arn,
                    row.source,
                    "<the caller's ARN>",
                    (),
                    None,
                    (),
                    (),
                    ("every principal of the account is mapped by mapAccounts; access entries have no equivalent",),
                    True,
                )
            )
            continue
        today = _today(chain, row.principal_arn) if "*" not in row.principal_arn else None
        found = find_entry(by_principal, row.principal_arn)
        after = _after(found) if found is not None else None
        differences: list[str] = []
        loses = False
        if today is None:
            if row.action == "manual" and "*" in row.principal_arn:
                differences.append("the sso matcher's roles are not known (use --resolve-paths)")
                loses = True
            else:
                differences.append("not mapped by aws-auth today")
        elif after is None:
            differences.append("has no access entry: loses access once aws-auth is ignored")
            loses = True
        else:
            username, groups = today
            after_username, after_groups, policies = after
            if username and username != after_username:
                differences.append(
                    f"username changes from {username!r} to {after_username!r} (RBAC bindings naming it stop applying)"
                )
                loses = True
            lost = [g for g in dict.fromkeys(groups) if g not in after_groups]
            if MASTERS in lost and CLUSTER_ADMIN in policies:
                lost.remove(MASTERS)
            if lost:
                differences.append(f"loses groups {', '.join(lost)}")
                loses = True
            gained = [g for g in after_groups if g not in groups]
            if gained:
                differences.append(f"gains groups {', '.join(gained)}")
            if policies:
                differences.append(f"access policies {', '.join(policies)}")
        out.append(
            Comparison(
                row.principal_arn,
                row.source,
                today[0] if today else None,
                today[1] if today else (),
                after[0] if after else None,
                after[1] if after else (),
                after[2] if after else (),
                tuple(differences),
                loses,
            )
        )
    return out


def render_verify(comparisons: Sequence[Comparison], fmt: str) -> str:
    if fmt == "json":
        import json

        doc = {
            "principals": [c.as_json() for c in comparisons],
            "losingAccess": sum(1 for c in comparisons if c.loses_access),
        }
        return json.dumps(doc, indent=2) + "\n"
    out: list[str] = []
    for c in comparisons:
        verdict = "LOSES ACCESS" if c.loses_access else "ok"
        out.append(f"{c.principal_arn} ({c.source}): {verdict}")
        today = "not mapped" if c.today_username is None else f"{c.today_username} [{', '.join(c.today_groups)}]"
        out.append(f"  aws-auth today:  {today}")
        if c.after_username is None:
            out.append("  access entry:    none")
        else:
            policies = f" + {', '.join(c.after_policies)}" if c.after_policies else ""
            out.append(f"  access entry:    {c.after_username} [{', '.join(c.after_groups)}]{policies}")
        for difference in c.differences:
            out.append(f"  - {difference}")
    losing = sum(1 for c in comparisons if c.loses_access)
    out.append(f"verify: {counted(len(comparisons), 'principal')}, {losing} would lose access")
    return "\n".join(out) + "\n"
