"""What a cluster already holds, for ``aws-auth migrate``: its authentication mode, its access
entries with their access policies, and the roles of its managed node groups and Fargate profiles
(docs/cli.md, `aws-auth migrate`).

Read through botocore (``--cluster``: the endpoint is botocore's, so ``AWS_ENDPOINT_URL_EKS`` and a
profile's ``endpoint_url`` apply) or from a file (``--entries FILE``). Both give the same values:
``DescribeAccessEntry`` ``accessEntry`` objects, each with ``associatedAccessPolicies`` (the
``ListAssociatedAccessPolicies`` items), timestamps as ISO 8601 text. Anything AWS answers with an
error becomes one ``UserError`` line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import botocore.exceptions
import botocore.session

from authenticator.errors import UserError

if TYPE_CHECKING:  # type-checking only: botocore builds its client classes at run time
    from mypy_boto3_eks import EKSClient

__all__ = ["ClusterState", "aws_errors", "eks_client", "load_entries", "read_cluster", "read_entries"]

# Until the mode leaves CONFIG_MAP, EKS refuses every access-entry call.
_CONFIG_MAP = "CONFIG_MAP"


@dataclass(frozen=True)
class ClusterState:
    """A cluster as the migration sees it. ``entries``: DescribeAccessEntry ``accessEntry`` dicts,
    each with ``associatedAccessPolicies``; ``managed_role_arns``: the node roles of managed node
    groups and the pod execution roles of Fargate profiles (full ARNs), to which EKS gives entries
    itself."""

    name: str
    account: str
    partition: str
    authentication_mode: str
    entries: tuple[dict[str, Any], ...]
    managed_role_arns: frozenset[str]


@contextmanager
def aws_errors(service: str) -> Iterator[None]:
    """Turn botocore's errors into one-line ``UserError``s naming the service and operation."""
    try:
        yield
    except botocore.exceptions.ClientError as err:
        error = err.response.get("Error", {})
        code = error.get("Code") or "error"
        message = " ".join(str(error.get("Message") or "").split())
        operation = getattr(err, "operation_name", "") or "call"
        raise UserError(f"{service} {operation}: {code}: {message}".rstrip(": ")) from None
    except botocore.exceptions.NoRegionError:
        raise UserError(f"{service}: no AWS region: give --region or set AWS_REGION") from None
    except botocore.exceptions.ProfileNotFound as err:
        raise UserError(f"{service}: {err}") from None
    except botocore.exceptions.NoCredentialsError:
        raise UserError(f"{service}: no AWS credentials found (environment, profile or instance role)") from None
    except botocore.exceptions.BotoCoreError as err:
        raise UserError(f"{service}: {' '.join(str(err).split())}") from None


def eks_client(region: str | None, profile: str | None) -> EKSClient:
    """An EKS client from botocore's configuration (profile, region, endpoint settings)."""
    with aws_errors("EKS"):
        session = botocore.session.Session(profile=profile)
        return cast("EKSClient", session.create_client("eks", region_name=region))


def read_cluster(eks: EKSClient, name: str) -> ClusterState:
    """The cluster ``name``: DescribeCluster, its access entries (when the mode allows them) and
    the roles of its managed node groups and Fargate profiles."""
    with aws_errors("EKS"):
        cluster = eks.describe_cluster(name=name)["cluster"]
        arn_parts = cluster.get("arn", "").split(":")
        if len(arn_parts) < 6:
            raise UserError(f"EKS DescribeCluster: cluster {name!r} has no usable ARN")
        mode = cluster.get("accessConfig", {}).get("authenticationMode", _CONFIG_MAP)
        entries = () if mode == _CONFIG_MAP else tuple(_entries(eks, name))
        return ClusterState(
            name=name,
            account=arn_parts[4],
            partition=arn_parts[1],
            authentication_mode=mode,
            entries=entries,
            managed_role_arns=frozenset(_managed_roles(eks, name)),
        )


def read_entries(eks: EKSClient, name: str) -> tuple[dict[str, Any], ...]:
    """The cluster's access entries alone (as :func:`read_cluster` has them): after ``--apply``,
    ``--verify`` needs them again, not the node groups and Fargate profiles."""
    with aws_errors("EKS"):
        return tuple(_entries(eks, name))


def _entries(eks: EKSClient, name: str) -> Iterator[dict[str, Any]]:
    for page in eks.get_paginator("list_access_entries").paginate(clusterName=name):
        for principal in page.get("accessEntries", []):
            entry = _plain(dict(eks.describe_access_entry(clusterName=name, principalArn=principal)["accessEntry"]))
            policies = eks.get_paginator("list_associated_access_policies").paginate(
                clusterName=name, principalArn=principal
            )
            entry["associatedAccessPolicies"] = [
                _plain(dict(item))
                for policy_page in policies
                for item in policy_page.get("associatedAccessPolicies", [])
            ]
            yield entry


def _managed_roles(eks: EKSClient, name: str) -> Iterator[str]:
    for page in eks.get_paginator("list_nodegroups").paginate(clusterName=name):
        for group in page.get("nodegroups", []):
            role = eks.describe_nodegroup(clusterName=name, nodegroupName=group)["nodegroup"].get("nodeRole")
            if role:
                yield role
    for fargate_page in eks.get_paginator("list_fargate_profiles").paginate(clusterName=name):
        for profile in fargate_page.get("fargateProfileNames", []):
            described = eks.describe_fargate_profile(clusterName=name, fargateProfileName=profile)["fargateProfile"]
            role = described.get("podExecutionRoleArn")
            if role:
                yield role


def _plain(value: Any) -> Any:
    """The value as JSON would hold it: timestamps as ISO 8601 text, no response metadata."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# -- --entries FILE --------------------------------------------------------------------------------


# Every type an access entry can have (EC2: EKS Auto Mode); another is a typo that would pass
# unnoticed into every comparison.
ENTRY_TYPES = ("STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX", "EC2")


def load_entries(path: str) -> tuple[dict[str, Any], ...]:
    """The existing access entries given offline: a JSON list of DescribeAccessEntry ``accessEntry``
    objects, each optionally with ``associatedAccessPolicies``. ``type`` defaults to STANDARD,
    ``kubernetesGroups`` and ``associatedAccessPolicies`` to empty lists (as EKS reports them)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"--entries {path}: cannot read: {getattr(err, 'strerror', None) or err}") from None
    try:
        document = json.loads(text)
    except ValueError as err:
        raise UserError(f"--entries {path}: not JSON: {err}") from None
    if not isinstance(document, list):
        raise UserError(f"--entries {path}: expected a JSON list of access entries, got {_json_type(document)}")
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(document):
        entry = _entry(item, f"--entries {path}: entry [{index}]")
        if entry["principalArn"] in seen:
            raise UserError(f"--entries {path}: entry [{index}]: principalArn {entry['principalArn']} appears twice")
        seen.add(entry["principalArn"])
        entries.append(entry)
    return tuple(entries)


def _entry(item: object, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise UserError(f"{where}: expected an object, got {_json_type(item)}")
    if set(item) == {"accessEntry"}:  # the describe-access-entry answer, pasted whole
        raise UserError(f"{where}: give the accessEntry object itself, not the describe-access-entry answer")
    principal = item.get("principalArn")
    if not isinstance(principal, str) or not principal.startswith("arn:"):
        raise UserError(f"{where}: principalArn must be an ARN string")
    entry = dict(item)
    entry.setdefault("type", "STANDARD")
    entry.setdefault("kubernetesGroups", [])
    entry.setdefault("associatedAccessPolicies", [])
    for key in ("type", "username"):
        if key in entry and not isinstance(entry[key], str):
            raise UserError(f"{where}: {key} must be a string, got {_json_type(entry[key])}")
    if entry["type"] not in ENTRY_TYPES:
        raise UserError(f"{where}: type {entry['type']!r} is not an access-entry type ({', '.join(ENTRY_TYPES)})")
    if not _strings(entry["kubernetesGroups"]):
        raise UserError(f"{where}: kubernetesGroups must be a list of strings")
    policies = entry["associatedAccessPolicies"]
    if not isinstance(policies, list):
        raise UserError(f"{where}: associatedAccessPolicies must be a list")
    for number, policy in enumerate(policies):
        _policy(policy, f"{where}: associatedAccessPolicies[{number}]")
    return entry


def _policy(policy: object, where: str) -> None:
    if not isinstance(policy, dict) or not isinstance(policy.get("policyArn"), str):
        raise UserError(f"{where}: expected an object with a policyArn string")
    scope = policy.get("accessScope", {"type": "cluster"})
    if not isinstance(scope, dict) or scope.get("type") not in ("cluster", "namespace"):
        raise UserError(f"{where}: accessScope.type must be cluster or namespace")
    if not _strings(scope.get("namespaces", [])):
        raise UserError(f"{where}: accessScope.namespaces must be a list of strings")


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
