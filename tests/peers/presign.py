"""A small test presigner: botocore's own SigV4 query signer, as EKS tokens are made (token.md §1)."""

from __future__ import annotations

from urllib.parse import urlsplit

from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

STS_HOST = "sts.us-east-1.amazonaws.com"


def presign(
    access_key_id: str,
    secret_access_key: str,
    session_token: str | None = None,
    *,
    cluster_id: str = "test-cluster",
    host: str = STS_HOST,
    region: str = "us-east-1",
) -> str:
    """The presigned GetCallerIdentity URL an EKS token carries (signed now)."""
    request = AWSRequest(
        method="GET",
        url=f"https://{host}/?Action=GetCallerIdentity&Version=2011-06-15",
        headers={"x-k8s-aws-id": cluster_id},
    )
    SigV4QueryAuth(Credentials(access_key_id, secret_access_key, session_token), "sts", region, expires=60).add_auth(
        request
    )
    return request.url


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"
