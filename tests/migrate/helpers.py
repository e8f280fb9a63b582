"""What the migration's tests share: the environment of a child process that reaches the EKS
stand-in (and moto's IAM) through botocore's standard endpoint settings."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.eks_standin import EksStandIn
from tests.support.plugin import env_credentials


def child_env(standin: EksStandIn, home: Path, **extra: str) -> dict[str, str]:
    """os.environ without any AWS_ setting of the machine, plus credentials and the stand-in's endpoint."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        **env_credentials(home, AWS_MAX_ATTEMPTS="1"),
        **standin.env(),
        **extra,
    }
