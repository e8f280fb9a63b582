"""``aws-auth migrate --apply``: create the plan's ``create`` rows through the EKS API.

Idempotent: a 409 (ResourceInUseException) is answered by reading the entry that is there and
comparing it with what was wanted — equal is ``exists``, not an error. Only CreateAccessEntry,
DescribeAccessEntry, ListAssociatedAccessPolicies and AssociateAccessPolicy are called: the
authentication mode is never changed and aws-auth is never touched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from authenticator.migrate.plan import AccessPolicy, Plan, Row, differences, existing_policies

__all__ = ["ApplyOutcome", "apply_plan"]


@dataclass
class ApplyOutcome:
    created: int = 0
    exists: int = 0
    associated: int = 0
    conflicts: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.conflicts and not self.failures


def _error(err: ClientError | BotoCoreError) -> str:
    if isinstance(err, ClientError):
        info = err.response.get("Error", {})
        return f"{info.get('Code', 'Error')}: {info.get('Message', '')}".rstrip(": ")
    return str(err)


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _existing(eks: Any, cluster: str, arn: str) -> dict[str, Any]:
    entry = dict(eks.describe_access_entry(clusterName=cluster, principalArn=arn)["accessEntry"])
    policies: list[Mapping[str, Any]] = []
    kwargs: dict[str, Any] = {"clusterName": cluster, "principalArn": arn}
    while True:
        page = eks.list_associated_access_policies(**kwargs)
        policies.extend(page.get("associatedAccessPolicies", []))
        token = page.get("nextToken")
        if not token:
            break
        kwargs["nextToken"] = token
    entry["associatedAccessPolicies"] = policies
    return entry


def _associate(eks: Any, cluster: str, row: Row, policy: AccessPolicy) -> None:
    scope: dict[str, Any] = {"type": policy.scope_type}
    if policy.namespaces:
        scope["namespaces"] = list(policy.namespaces)
    eks.associate_access_policy(
        clusterName=cluster, principalArn=row.principal_arn, policyArn=policy.policy_arn, accessScope=scope
    )


def _apply_row(eks: Any, cluster: str, row: Row, outcome: ApplyOutcome, say: Callable[[str], None]) -> None:
    params: dict[str, Any] = {"clusterName": cluster, "principalArn": row.principal_arn, "type": row.type or "STANDARD"}
    if row.username:
        params["username"] = row.username
    if row.groups:
        params["kubernetesGroups"] = list(row.groups)
    have: tuple[AccessPolicy, ...] = ()
    try:
        eks.create_access_entry(**params)
        outcome.created += 1
        say(f"created   {row.principal_arn} ({row.type})")
    except ClientError as err:
        if _code(err) != "ResourceInUseException":
            outcome.failures.append(f"{row.principal_arn}: {_error(err)}")
            say(f"FAILED    {row.principal_arn}: {_error(err)}")
            return
        try:
            existing = _existing(eks, cluster, row.principal_arn)
        except ClientError as read_err:  # e.g. allowed to create but not to describe: say so, go on
            outcome.failures.append(f"{row.principal_arn}: {_error(read_err)}")
            say(f"FAILED    {row.principal_arn}: exists, and cannot be read: {_error(read_err)}")
            return
        have = existing_policies(existing)
        # Policies still to associate are not a conflict: this run adds them.
        wanted_only = {**existing, "associatedAccessPolicies": [p.as_json() for p in row.policies]}
        found = differences(row, wanted_only)
        extra = set(have) - set(row.policies)
        if extra:
            found.append(f"has other access policies: {sorted(p.policy_arn for p in extra)}")
        if found:
            outcome.conflicts.append(f"{row.principal_arn}: {'; '.join(found)}")
            say(f"CONFLICT  {row.principal_arn}: {'; '.join(found)}")
            return
        outcome.exists += 1
        say(f"exists    {row.principal_arn} (already as wanted)")
    for policy in row.policies:
        if policy in have:
            continue
        try:
            _associate(eks, cluster, row, policy)
        except ClientError as err:
            outcome.failures.append(f"{row.principal_arn}: {policy.policy_arn}: {_error(err)}")
            say(f"FAILED    {row.principal_arn}: associate {policy.policy_arn}: {_error(err)}")
            continue
        outcome.associated += 1
        say(f"associated {policy.policy_arn.rsplit('/', 1)[-1]} ({policy.scope_type}) with {row.principal_arn}")


def apply_plan(eks: Any, cluster: str, plan: Plan, say: Callable[[str], None]) -> ApplyOutcome:
    """Create every ``create`` row of ``plan`` on ``cluster``; ``say`` gets one line per call's outcome.
    Connection errors (BotoCoreError) propagate: the run cannot go on."""
    outcome = ApplyOutcome()
    for row in plan.rows:
        if row.action == "create":
            _apply_row(eks, cluster, row, outcome, say)
    return outcome
