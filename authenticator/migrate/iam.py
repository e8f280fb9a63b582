"""IAM look-ups for ``aws-auth migrate``: the paths aws-auth leaves out (docs/migration.md).

aws-auth matches a role without its path (an assumed-role ARN has none), but an access entry
names the role's full ARN, path included: ``--resolve-paths`` asks IAM ``GetRole`` for it. An
``sso:`` matcher names a permission set, not roles: its roles are the ones IAM Identity Center
made under ``/aws-reserved/sso.amazonaws.com/``, matched exactly as the server matches them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import botocore.exceptions
import botocore.session

from authenticator.errors import UserError
from authenticator.mapping.model import sso_role_key
from authenticator.migrate.cluster import aws_errors

if TYPE_CHECKING:  # type-checking only: botocore builds its client classes at run time
    from mypy_boto3_iam import IAMClient

__all__ = ["SSO_ROLE_PATH", "iam_client", "resolve_role_arn", "sso_role_arns"]

SSO_ROLE_PATH = "/aws-reserved/sso.amazonaws.com/"


def iam_client(region: str | None, profile: str | None) -> IAMClient:
    """An IAM client from botocore's configuration (profile, region, ``AWS_ENDPOINT_URL_IAM``)."""
    with aws_errors("IAM"):
        session = botocore.session.Session(profile=profile)
        return cast("IAMClient", session.create_client("iam", region_name=region))


def _split_iam_arn(arn: str) -> tuple[str, str, str, str]:
    """(partition, account, kind, name) of ``arn:<p>:iam::<account>:<kind>/<path…>/<name>``."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or parts[3] != "" or "/" not in parts[5]:
        raise UserError(f"{arn!r} is not the ARN of an IAM role or user")
    kind, _, rest = parts[5].partition("/")
    return parts[1], parts[4], kind, rest.rsplit("/", 1)[-1]


def resolve_role_arn(iam: IAMClient, arn: str) -> str | None:
    """The role's full ARN, path included, as IAM ``GetRole`` knows it; None when IAM does not
    know a role of that name in that account (a role of another account is not visible through
    this account's IAM). A user ARN is returned as it is: a user's ARN already carries its path."""
    partition, account, kind, name = _split_iam_arn(arn)
    if kind == "user":
        return arn
    if kind != "role":
        raise UserError(f"{arn!r} is not the ARN of an IAM role or user")
    with aws_errors("IAM"):
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except botocore.exceptions.ClientError as err:
            if err.response.get("Error", {}).get("Code") == "NoSuchEntity":
                return None
            raise
    found = role["Arn"]
    found_partition, found_account, _, _ = _split_iam_arn(found)
    if (found_partition, found_account) != (partition, account):
        return None
    return found


def sso_role_arns(
    iam: IAMClient, permission_set: str, *, account: str | None = None, partition: str | None = None
) -> list[str]:
    """The full ARNs of the roles IAM Identity Center made for ``permission_set`` (sorted), found with
    ``ListRoles`` under ``/aws-reserved/sso.amazonaws.com/`` and kept when the server's own matcher
    (``sso_role_key``, on the path-less ARN the server sees) names this permission set — and this
    account and partition when given (an ``sso:`` entry's ``accountID`` and ``partition``)."""
    wanted = permission_set.lower()
    found: list[str] = []
    with aws_errors("IAM"):
        for page in iam.get_paginator("list_roles").paginate(PathPrefix=SSO_ROLE_PATH):
            for role in page.get("Roles", []):
                role_partition, role_account, _, _ = _split_iam_arn(role["Arn"])
                key = sso_role_key(f"arn:{role_partition}:iam::{role_account}:role/{role['RoleName']}")
                if key is None or key[2] != wanted:
                    continue
                if account is not None and key[1] != account:
                    continue
                if partition is not None and key[0] != partition.lower():
                    continue
                found.append(role["Arn"])
    return sorted(found)
