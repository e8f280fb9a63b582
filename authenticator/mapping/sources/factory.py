"""From ``--backend-mode`` and the ``server:`` config section to mapping sources.

The server composes the chain: ``normalize_backend_modes`` turns the flag or config value into
the ordered list of canonical names (deprecated aliases accepted with a warning; unknown or
duplicate modes are a ValueError with one clear line, so the server stops at start), and
``build_source`` builds each source. Keys of ``server_config`` are read as the config file
spells them (``mapRoles``, ``dynamicfilepath``, ``dynamicfileUserIDStrict``, …), matched
case-insensitively and ignoring ``_``, so a pydantic ``model_dump()`` works as well.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from kubernetes import client as k8s_client

from authenticator.kube.client import KubeConfigError, load_api_client
from authenticator.mapping.chain import MappingSource
from authenticator.mapping.ec2 import EC2PrivateDNSNameResolver
from authenticator.mapping.sources.configmap import EKS_CONFIGMAP, EKSConfigMapSource
from authenticator.mapping.sources.crd import CRD, CRDSource
from authenticator.mapping.sources.dynamicfile import DYNAMIC_FILE, DynamicFileSource
from authenticator.mapping.sources.file import MOUNTED_FILE, MountedFileSource

__all__ = [
    "BACKEND_MODES",
    "DEPRECATED_ALIASES",
    "KubeClients",
    "build_ec2_resolver",
    "build_source",
    "build_sources",
    "normalize_backend_modes",
]

BACKEND_MODES = (MOUNTED_FILE, EKS_CONFIGMAP, CRD, DYNAMIC_FILE)
DEPRECATED_ALIASES = {"File": MOUNTED_FILE, "ConfigMap": EKS_CONFIGMAP}

_log = logging.getLogger("authenticator.mapping")
_CANONICAL = {m.lower(): m for m in BACKEND_MODES}
_ALIASES = {a.lower(): (a, m) for a, m in DEPRECATED_ALIASES.items()}


def normalize_backend_modes(value: str | Sequence[str]) -> list[str]:
    """``"File, CRD"`` or ``["EKSConfigMap", "DynamicFile"]`` -> canonical names, in order."""
    items = value.split(",") if isinstance(value, str) else [p for v in value for p in str(v).split(",")]
    modes: list[str] = []
    for item in items:
        text = item.strip()
        if not text:
            continue
        mode = _CANONICAL.get(text.lower())
        if mode is None and text.lower() in _ALIASES:
            alias, mode = _ALIASES[text.lower()]
            _log.warning("backend mode %s is deprecated; use %s", alias, mode)
        if mode is None:
            raise ValueError(f"unknown backend mode {text!r} (known: {', '.join(BACKEND_MODES)})")
        if mode in modes:
            raise ValueError(f"backend mode {mode} is listed twice in {_show(value)}")
        modes.append(mode)
    if not modes:
        raise ValueError("no backend mode given (known: " + ", ".join(BACKEND_MODES) + ")")
    return modes


class KubeClients:
    """One ApiClient for every cluster source, made on first use from --kubeconfig/--master or
    the in-cluster service account."""

    def __init__(
        self,
        *,
        kubeconfig: str | None = None,
        master: str | None = None,
        api_client: k8s_client.ApiClient | None = None,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.master = master
        self._api_client = api_client

    def api_client(self) -> k8s_client.ApiClient:
        if self._api_client is None:
            try:
                self._api_client = load_api_client(kubeconfig=self.kubeconfig, master=self.master)
            except KubeConfigError as err:
                raise ValueError(str(err)) from None
        return self._api_client

    def close(self) -> None:
        if self._api_client is not None:
            self._api_client.close()
            self._api_client = None


def build_source(
    mode: str,
    *,
    server_config: Mapping[str, Any],
    kube: KubeClients | k8s_client.ApiClient | None = None,
) -> MappingSource:
    """One source for one canonical mode. ValueError (one line) when its configuration is unusable.

    The watched sources (EKSConfigMap, CRD) and DynamicFile's poller are started by the caller:
    ``await source.start()`` / ``await source.stop()``."""
    config = _Config(server_config)
    if mode == MOUNTED_FILE:
        try:
            return MountedFileSource(
                map_roles=config.get("mapRoles"),
                map_users=config.get("mapUsers"),
                map_accounts=config.get("mapAccounts"),
                aws_auth_file=config.get("awsAuthFile") or None,
            )
        except OSError as err:
            raise ValueError(f"server.awsAuthFile: cannot read {err.filename}: {err.strerror}") from None
    if mode == DYNAMIC_FILE:
        path = config.get("dynamicFilePath")
        if not path:
            raise ValueError("backend mode DynamicFile needs server.dynamicfilepath")
        return DynamicFileSource(path=str(path), userid_strict=bool(config.get("dynamicFileUserIDStrict")))
    if mode in (EKS_CONFIGMAP, CRD):
        if kube is None:
            kube = KubeClients()
        api_client = kube.api_client() if isinstance(kube, KubeClients) else kube
        if mode == EKS_CONFIGMAP:
            return EKSConfigMapSource(api_client=api_client)
        return CRDSource(api_client=api_client)
    raise ValueError(f"unknown backend mode {mode!r} (known: {', '.join(BACKEND_MODES)})")


def build_sources(
    modes: str | Sequence[str],
    *,
    server_config: Mapping[str, Any],
    kubeconfig: str | None = None,
    master: str | None = None,
) -> list[MappingSource]:
    """Every source of ``--backend-mode``, in order, sharing one Kubernetes client."""
    kube = KubeClients(kubeconfig=kubeconfig, master=master)
    return [build_source(mode, server_config=server_config, kube=kube) for mode in normalize_backend_modes(modes)]


def build_ec2_resolver(server_config: Mapping[str, Any], *, region: str | None = None) -> EC2PrivateDNSNameResolver:
    """The ``{{EC2PrivateDNSName}}`` resolver, assuming ``server.ec2DescribeInstancesRoleARN`` if set."""
    config = _Config(server_config)
    return EC2PrivateDNSNameResolver(region=region, role_arn=config.get("ec2DescribeInstancesRoleARN") or None)


class _Config:
    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = {_key(k): v for k, v in values.items()}

    def get(self, key: str) -> Any:
        return self._values.get(_key(key))


def _key(key: object) -> str:
    return str(key).replace("_", "").replace("-", "").lower()


def _show(value: str | Sequence[str]) -> str:
    return value if isinstance(value, str) else ",".join(str(v) for v in value)
