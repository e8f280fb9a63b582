"""What the user asked for, and the cache key derived from it — stdlib only.

The key must be computable on the cache-hit path, before (and without) botocore.
So instead of the *resolved* region and credentials it holds everything they are
resolved *from*: the flags, the AWS environment variables that steer botocore's
chain (the access key id, never a secret or session token), the profile name, and
the identity (path, inode, size, mtime) of the shared config and credentials files.
Same inputs → same resolution; editing ``~/.aws/config`` or switching profile or
keys changes the key, so a stale entry is simply never looked up again.
"""

from __future__ import annotations

import os

from client_plugin._record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

__all__ = ["TokenRequest", "explicit_region"]

DEFAULT_REGION = "us-east-1"

# Environment variables botocore's credential chain and endpoint settings read;
# their values go into the key (the secret and session token do not).
_KEYED_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_STS_REGIONAL_ENDPOINTS",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_EC2_METADATA_DISABLED",
)


def explicit_region(flag: str | None, env: Mapping[str, str]) -> str | None:
    """``--region``, then ``AWS_REGION``, then ``AWS_DEFAULT_REGION`` (docs/token.md §2)."""
    for value in (flag, env.get("AWS_REGION"), env.get("AWS_DEFAULT_REGION")):
        if value:
            return value
    return None


def _file_identity(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


class TokenRequest(Record):
    _fields = (
        "cluster_id",
        "region",
        "profile",
        "role_arn",
        "external_id",
        "session_name",
        "forward_session_name",
        "env",
    )
    __slots__ = _fields
    _hidden = ("env",)  # holds the secret key: never in a repr
    cluster_id: str
    region: str | None  # explicit region (flag or env); None: the profile's, else us-east-1
    profile: str | None  # --profile
    role_arn: str | None
    external_id: str | None
    session_name: str | None
    forward_session_name: bool
    env: Mapping[str, str]

    def _config_paths(self) -> tuple[str, str]:
        home = os.path.expanduser("~")
        config = self.env.get("AWS_CONFIG_FILE") or os.path.join(home, ".aws", "config")
        credentials = self.env.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.join(home, ".aws", "credentials")
        return os.path.expanduser(config), os.path.expanduser(credentials)

    def credentials_key(self) -> dict[str, Any]:
        """Key of the signing credentials (and of where to sign): everything but the cluster."""
        config, credentials = self._config_paths()
        return {
            "v": 1,
            "region": self.region,
            "profile": self.profile,
            "role_arn": self.role_arn,
            "external_id": self.external_id,
            "session_name": self.session_name,
            "forward_session_name": self.forward_session_name,
            "secret_in_env": bool(self.env.get("AWS_SECRET_ACCESS_KEY")),
            "env": {name: self.env[name] for name in _KEYED_ENV if name in self.env},
            "files": {config: _file_identity(config), credentials: _file_identity(credentials)},
        }

    def token_key(self) -> dict[str, Any]:
        return {**self.credentials_key(), "cluster_id": self.cluster_id}
