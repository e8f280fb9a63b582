"""Identities as the verifier builds them from an STS answer, for tests that start after STS.

One builder per kind of caller; every field is a keyword so that a test names what it depends on
(the ARN's parts, the unique id, the access key id) and takes the rest as given.
"""

from __future__ import annotations

from authenticator.identity import Identity

ACCOUNT = "111122223333"
STS_HOST = "sts.us-east-1.amazonaws.com"


def role_identity(
    role: str = "eks-admins",
    session: str = "jdoe@example.com",
    *,
    account: str = ACCOUNT,
    partition: str = "aws",
    user_id: str = "AROAEXAMPLEROLEID0001",
    access_key_id: str = "ASIAEXAMPLEKEY000001",
    sts_endpoint: str = STS_HOST,
) -> Identity:
    """An assumed-role session of ``role``."""
    return Identity(
        arn=f"arn:{partition}:sts::{account}:assumed-role/{role}/{session}",
        canonical_arn=f"arn:{partition}:iam::{account}:role/{role}",
        account_id=account,
        user_id=user_id,
        session_name=session,
        access_key_id=access_key_id,
        sts_endpoint=sts_endpoint,
    )


def user_identity(
    user: str = "alice",
    *,
    account: str = ACCOUNT,
    user_id: str = "AIDAEXAMPLEUSERID0001",
    access_key_id: str = "AKIAEXAMPLEKEY000001",
    sts_endpoint: str = STS_HOST,
) -> Identity:
    """An IAM user ``user`` calling with a long-term key."""
    arn = f"arn:aws:iam::{account}:user/{user}"
    return Identity(
        arn=arn,
        canonical_arn=arn,
        account_id=account,
        user_id=user_id,
        session_name="",
        access_key_id=access_key_id,
        sts_endpoint=sts_endpoint,
    )
