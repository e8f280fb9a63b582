"""Compatibility with `aws eks get-token`: same credentials, region and frozen second → same URL.

Both run as real processes under libfaketime (Debian `faketime`) frozen at one instant.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.plugin import AWS, PLUGIN, decode_token, env_credentials

FROZEN = "2026-03-04 05:06:07"


def _faketime() -> list[str]:
    found = shutil.which("faketime")
    assert found, "faketime is not installed (apt-get install -y faketime)"
    # An absolute time without "@" freezes the clock.
    return [found, "-f", FROZEN]


def _token(command: list[str], env: dict[str, str]) -> dict[str, object]:
    result = subprocess.run([*_faketime(), *command], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


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
    ours = _token([PLUGIN, "token", "-i", "compat-cluster"], env)
    theirs = _token([AWS, "eks", "get-token", "--cluster-name", "compat-cluster"], env)

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
    assert ours["apiVersion"] == theirs["apiVersion"] == "client.authentication.k8s.io/v1beta1"


def test_a_different_second_gives_a_different_url(home: Path) -> None:
    """Guards the comparison above: it would fail if the clock were not the same for both."""
    env = env_credentials(home, AWS_DEFAULT_REGION="us-west-2")
    ours = _token([PLUGIN, "token", "-i", "compat-cluster"], env)
    result = subprocess.run(
        [
            shutil.which("faketime") or "faketime",
            "-f",
            "2026-03-04 05:06:08",
            AWS,
            "eks",
            "get-token",
            "--cluster-name",
            "compat-cluster",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    theirs = json.loads(result.stdout)
    assert decode_token(ours["status"]["token"]).url != decode_token(theirs["status"]["token"]).url  # type: ignore[index]
