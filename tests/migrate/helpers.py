"""What the migration's tests share: a cluster on the EKS stand-in, and the environment of a child
process that reaches it (and moto's IAM) through botocore's standard endpoint settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.support.eks_standin import ACCOUNT, EksStandIn
from tests.support.plugin import env_credentials


def make_cluster(eks: Any, name: str = "prod", mode: str = "API_AND_CONFIG_MAP") -> None:
    """A cluster on the stand-in, created in ``mode`` (through the API, as EKS allows)."""
    eks.create_cluster(
        name=name,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster",
        resourcesVpcConfig={"subnetIds": ["subnet-1"]},
        accessConfig={"authenticationMode": mode},
    )


def child_env(standin: EksStandIn, home: Path, **extra: str) -> dict[str, str]:
    """os.environ without any AWS_ setting of the machine, plus credentials and the stand-in's endpoint."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        **env_credentials(home, AWS_MAX_ATTEMPTS="1"),
        **standin.env(),
        **extra,
    }
