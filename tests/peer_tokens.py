"""Tokens signed by botocore's own SigV4 signer, for tests that talk to the moto STS peer.

An independent signer (not our plugin's presigner) so that a test of the server is not
also a test of our own signing code agreeing with itself.
"""

from __future__ import annotations

from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from token_cases import encode

STS_HOST = "sts.us-east-1.amazonaws.com"


def botocore_token(
    access_key_id: str, secret: str, session_token: str | None = None, *, cluster_id: str, host: str = STS_HOST
) -> str:
    request = AWSRequest(
        method="GET",
        url=f"https://{host}/?Action=GetCallerIdentity&Version=2011-06-15",
        headers={"x-k8s-aws-id": cluster_id},
    )
    SigV4QueryAuth(Credentials(access_key_id, secret, session_token), "sts", "us-east-1", expires=60).add_auth(request)
    return encode(request.url)
