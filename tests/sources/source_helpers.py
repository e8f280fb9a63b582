"""Identities for the cluster-source tests (a plain module: conftest is not importable by name)."""

from __future__ import annotations

from authenticator.identity import Identity


def role_identity(account: str, role: str, session: str = "s1") -> Identity:
    return Identity(
        arn=f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        canonical_arn=f"arn:aws:iam::{account}:role/{role}",
        account_id=account,
        user_id="AROAEXAMPLE",
        session_name=session,
        access_key_id="ASIAEXAMPLE",
        sts_endpoint="sts.us-east-1.amazonaws.com",
    )


def user_identity(account: str, user: str, user_id: str = "AIDAEXAMPLE") -> Identity:
    arn = f"arn:aws:iam::{account}:user/{user}"
    return Identity(
        arn=arn,
        canonical_arn=arn,
        account_id=account,
        user_id=user_id,
        session_name="",
        access_key_id="AKIAEXAMPLE",
        sts_endpoint="sts.us-east-1.amazonaws.com",
    )
