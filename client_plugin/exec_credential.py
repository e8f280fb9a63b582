"""The ExecCredential exchange with kubectl (docs/exec-plugin.md), stdlib only.

Neither ``json`` (~3 ms of regex compiling at import) nor ``datetime`` is imported on
the cache-hit path: kubectl's ``KUBERNETES_EXEC_INFO`` is one of four exact strings
(recognised by comparison; anything else goes to ``json.loads``), and the answer is
written by a formatter whose inputs need no escaping (checked, else ``json.dumps``).
"""

from __future__ import annotations

import time

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
# Characters that stand for themselves inside a JSON string (a token is base64url).
_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


class ExecInfo(Record):
    """What kubectl told us in ``KUBERNETES_EXEC_INFO``.

    ``warning``: to print on stderr when the requested version was not usable.
    ``cluster_id`` and ``region``: the keys ``cluster-id`` and ``region`` of ``spec.cluster.config``,
    which kubectl sends with ``provideClusterInfo: true`` from the cluster's
    ``client.authentication.k8s.io/exec`` extension (None when absent).
    """

    _fields = ("api_version", "interactive", "warning", "cluster_id", "region")
    __slots__ = _fields
    api_version: str
    interactive: bool
    warning: str | None
    cluster_id: str | None
    region: str | None


# The exact values kubectl (client-go's JSON encoder) sets, without its trailing newline.
_KUBECTL_EXEC_INFO = {
    f'{{"kind":"ExecCredential","apiVersion":"{version}","spec":{{"interactive":{flag}}}}}': ExecInfo(
        version, interactive, None, None, None
    )
    for version in _SUPPORTED
    for interactive, flag in ((False, "false"), (True, "true"))
}


def parse_exec_info(raw: str | None) -> ExecInfo:
    """Read ``KUBERNETES_EXEC_INFO`` (kubectl ends the value with a newline).

    Absent → v1beta1, interactive (a human at a terminal ran us). An unknown or
    v1alpha1 apiVersion → v1beta1 with a warning. Not a JSON object → PluginError.
    """
    if raw is None or not raw.strip():
        return ExecInfo(API_V1BETA1, True, None, None, None)
    known = _KUBECTL_EXEC_INFO.get(raw[:-1] if raw.endswith("\n") else raw)
    if known is not None:
        return known
    import json  # any other spelling (e.g. with provideClusterInfo): the full parser

    try:
        info = json.loads(raw)
    except ValueError as exc:
        raise PluginError(f"KUBERNETES_EXEC_INFO is not valid JSON: {exc}") from None
    if not isinstance(info, dict):
        raise PluginError("KUBERNETES_EXEC_INFO is not a JSON object")
    spec = info.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    interactive = bool(spec.get("interactive", False))
    cluster_id, region = _cluster_config(spec.get("cluster"))
    version = info.get("apiVersion")
    if version in _SUPPORTED:
        return ExecInfo(version, interactive, None, cluster_id, region)
    return ExecInfo(
        API_V1BETA1,
        interactive,
        warning=f"KUBERNETES_EXEC_INFO asks for apiVersion {version!r}; answering with {API_V1BETA1}",
        cluster_id=cluster_id,
        region=region,
    )


def _cluster_config(cluster: object) -> tuple[str | None, str | None]:
    """``cluster-id`` and ``region`` from ``spec.cluster.config``: the cluster's exec extension as
    written in the kubeconfig, any object; a key that is absent or not a non-empty string is None."""
    config = cluster.get("config") if isinstance(cluster, dict) else None
    if not isinstance(config, dict):
        return None, None

    def text(key: str) -> str | None:
        value = config.get(key)
        return value.strip() or None if isinstance(value, str) else None

    return text("cluster-id"), text("region")


def format_timestamp(epoch_seconds: float) -> str:
    """RFC 3339 in UTC with a ``Z`` (kubectl rejects a naive timestamp), to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))


def format_exec_credential(api_version: str, token: str, expires_at: float) -> str:
    """The one JSON object kubectl reads from stdout (without the trailing newline).

    ``expires_at`` is in epoch seconds.
    """
    stamp = format_timestamp(expires_at)
    if api_version in _SUPPORTED and _PLAIN.issuperset(token):
        return (
            f'{{"kind":"ExecCredential","apiVersion":"{api_version}","spec":{{}},'
            f'"status":{{"expirationTimestamp":"{stamp}","token":"{token}"}}}}'
        )
    import json  # a value that would need escaping: let json write it

    return json.dumps(
        {
            "kind": "ExecCredential",
            "apiVersion": api_version,
            "spec": {},
            "status": {"expirationTimestamp": stamp, "token": token},
        },
        separators=(",", ":"),
    )
