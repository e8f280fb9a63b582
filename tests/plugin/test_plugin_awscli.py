"""Compatibility with `aws eks get-token`: same credentials, region and frozen second → same URL.

Both run as real processes with their clock frozen at one instant, injected rather than faked:
awscli through its own driver with botocore's signer clock replaced, our plugin through its
``token`` handler with its clock parameter (tests/support/frozen_clock.py). Nothing beyond the
test extra is needed (no libfaketime).
"""

from __future__ import annotations

import calendar
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.plugin import decode_token, env_credentials

FROZEN = "2026-03-04 05:06:07"
_ENTRY = str(Path(__file__).resolve().parents[1] / "support" / "frozen_clock.py")


def _epoch(text: str) -> int:
    return calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M:%S"))


def _token(program: list[str], env: dict[str, str], at: str = FROZEN) -> dict[str, object]:
    # The project's root on the path: the entry imports client_plugin, as an installed one would.
    env = {**env, "PYTHONPATH": str(Path(_ENTRY).parents[2])}
    result = subprocess.run(
        [sys.executable, _ENTRY, str(_epoch(at)), *program], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    credential = json.loads(result.stdout)
    assert isinstance(credential, dict)
    return credential


@pytest.mark.parametrize(
    ("extra_env", "host"),
    [
        ({"AWS_DEFAULT_REGION": "us-west-2"}, "sts.us-west-2.amazonaws.com"),
        (
            {"AWS_DEFAULT_REGION": "eu-central-1", "AWS_SESSION_TOKEN": "FwoGZXIvYXdzE+/sess=="},
            "sts.eu-central-1.amazonaws.com",
        ),
        ({"AWS_DEFAULT_REGION": "cn-north-1"}, "sts.cn-north-1.amazonaws.com.cn"),
        ({"AWS_DEFAULT_REGION": "us-gov-west-1"}, "sts.us-gov-west-1.amazonaws.com"),
        ({"AWS_DEFAULT_REGION": "us-west-2", "AWS_STS_REGIONAL_ENDPOINTS": "legacy"}, "sts.amazonaws.com"),
        ({"AWS_DEFAULT_REGION": "ap-east-1", "AWS_STS_REGIONAL_ENDPOINTS": "legacy"}, "sts.ap-east-1.amazonaws.com"),
        ({"AWS_DEFAULT_REGION": "us-west-2", "AWS_USE_FIPS_ENDPOINT": "true"}, "sts-fips.us-west-2.amazonaws.com"),
    ],
)
def test_same_url_as_aws_eks_get_token(home: Path, extra_env: dict[str, str], host: str) -> None:
    env = env_credentials(home, **extra_env)
    ours = _token(["token", "-i", "compat-cluster"], env)
    theirs = _token(["aws", "eks", "get-token", "--cluster-name", "compat-cluster"], env)

    our = decode_token(ours["status"]["token"])  # type: ignore[index]
    their = decode_token(theirs["status"]["token"])  # type: ignore[index]
    assert our.host == host
    if "AWS_SESSION_TOKEN" in extra_env:
        # Same parameters and signature; botocore appends X-Amz-Security-Token after
        # X-Amz-SignedHeaders while we keep the Go SDK's sorted order (docs/token.md §1).
        assert our.params == their.params
        assert our.keys_in_order == [*sorted(their.keys_in_order[:-1]), "X-Amz-Signature"]
        assert our.params["X-Amz-Security-Token"] == extra_env["AWS_SESSION_TOKEN"]
    else:
        assert our.url == their.url
    assert ours["status"]["expirationTimestamp"] == "2026-03-04T05:20:07Z"  # type: ignore[index]
    assert theirs["status"]["expirationTimestamp"] == ours["status"]["expirationTimestamp"]  # type: ignore[index]
    assert ours["apiVersion"] == theirs["apiVersion"] == "client.authentication.k8s.io/v1beta1"


def test_a_different_second_gives_a_different_url(home: Path) -> None:
    """Guards the comparison above: it would fail if the clock were not the same for both."""
    env = env_credentials(home, AWS_DEFAULT_REGION="us-west-2")
    ours = _token(["token", "-i", "compat-cluster"], env)
    theirs = _token(["aws", "eks", "get-token", "--cluster-name", "compat-cluster"], env, at="2026-03-04 05:06:08")
    assert decode_token(ours["status"]["token"]).url != decode_token(theirs["status"]["token"]).url  # type: ignore[index]
    assert decode_token(theirs["status"]["token"]).params["X-Amz-Date"] == "20260304T050608Z"  # type: ignore[index]
