"""The ExecCredential exchange with kubectl (exec-plugin.md), stdlib only."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from client_plugin._record import Record
from client_plugin.errors import PluginError

__all__ = [
    "API_V1",
    "API_V1BETA1",
    "ExecInfo",
    "format_exec_credential",
    "format_timestamp",
    "parse_exec_info",
]

API_V1BETA1 = "client.authentication.k8s.io/v1beta1"
API_V1 = "client.authentication.k8s.io/v1"
_SUPPORTED = (API_V1BETA1, API_V1)


class ExecInfo(Record):
    """What kubectl told us in ``KUBERNETES_EXEC_INFO``.

    ``warning``: to print on stderr when the requested version was not usable.
    """

    _fields = ("api_version", "interactive", "warning")
    __slots__ = _fields
    api_version: str
    interactive: bool
    warning: str | None


def parse_exec_info(raw: str | None) -> ExecInfo:
    """Read ``KUBERNETES_EXEC_INFO`` (kubectl ends the value with a newline).

    Absent → v1beta1, interactive (a human at a terminal ran us). An unknown or
    v1alpha1 apiVersion → v1beta1 with a warning. Not a JSON object → PluginError.
    """
    if raw is None or not raw.strip():
        return ExecInfo(API_V1BETA1, True, None)
    try:
        info = json.loads(raw)
    except ValueError as exc:
        raise PluginError(f"KUBERNETES_EXEC_INFO is not valid JSON: {exc}") from None
    if not isinstance(info, dict):
        raise PluginError("KUBERNETES_EXEC_INFO is not a JSON object")
    spec = info.get("spec")
    interactive = bool(spec.get("interactive", False)) if isinstance(spec, dict) else False
    version = info.get("apiVersion")
    if version in _SUPPORTED:
        return ExecInfo(version, interactive, None)
    return ExecInfo(
        API_V1BETA1,
        interactive,
        warning=f"KUBERNETES_EXEC_INFO asks for apiVersion {version!r}; answering with {API_V1BETA1}",
    )


def format_timestamp(instant: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` (kubectl rejects a naive timestamp)."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_exec_credential(api_version: str, token: str, expires_at: datetime) -> str:
    """The one JSON object kubectl reads from stdout (without the trailing newline)."""
    return json.dumps(
        {
            "kind": "ExecCredential",
            "apiVersion": api_version,
            "spec": {},
            "status": {"expirationTimestamp": format_timestamp(expires_at), "token": token},
        },
        separators=(",", ":"),
    )
