from __future__ import annotations

from authenticator.identity import Identity


def role_identity(
    role: str = "eks-admins",
    session: str = "jdoe@example.com",
    *,
    account: str = "111122223333",
    partition: str = "aws",
    access_key_id: str = "ASIAEXAMPLEKEY",
) -> Identity:
    """An assumed-role identity as the verifier builds it from a real STS answer."""
    return Identity(
        arn=f"arn:{partition}:sts::{account}:assumed-role/{role}/{session}",
        canonical_arn=f"arn:{partition}:iam::{account}:role/{role}",
        account_id=account,
        user_id="AROAEXAMPLEROLEID",
        session_name=session,
        access_key_id=access_key_id,
        sts_endpoint="sts.us-east-1.amazonaws.com",
    )


def user_identity(user: str = "alice", *, account: str = "111122223333") -> Identity:
    return Identity(
        arn=f"arn:aws:iam::{account}:user/{user}",
        canonical_arn=f"arn:aws:iam::{account}:user/{user}",
        account_id=account,
        user_id="AIDAEXAMPLEUSERID",
        session_name="",
        access_key_id="AKIAEXAMPLEKEY",
        sts_endpoint="sts.amazonaws.com",
    )
