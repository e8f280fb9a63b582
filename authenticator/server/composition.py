"""The composition root: the webhook's parts built from one ``ServerConfig``.

Every setting reaches its part here, typed, as that part's own parameters: the mapping sources
(in backend-mode order, sharing one Kubernetes client), the ``{{EC2PrivateDNSName}}`` resolver,
the STS client, the verification cache, the verifier, the reviewer and the app. The command
handlers (``authenticator.server.commands``) load the config and call this; tests and the
benchmarks build the same app in-process from a config of their own.

A config the parts cannot use is a ``ConfigError`` naming the setting or the backend mode.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authenticator.errors import UserError
from authenticator.server.config import ConfigError, ServerConfig

if TYPE_CHECKING:  # the server's heavy imports wait until a part is built
    from fastapi import FastAPI
    from kubernetes import client as k8s_client

    from authenticator.mapping.chain import MappingSource
    from authenticator.mapping.sources.file import MountedFileSource
    from authenticator.server.review import Reviewer
    from authenticator.sts import STSClient
    from authenticator.sts_transport import STSTransport
    from authenticator.verification_cache import VerifiedIdentityCache
    from authenticator.verifier import TokenVerifier

__all__ = [
    "build_app",
    "build_mounted_file_source",
    "build_sources",
    "build_sts_client",
    "build_verifier",
    "check_startable",
]


def check_startable(config: ServerConfig) -> None:
    """What a valid config may still lack to start: the files it names. ``ConfigError`` with one line."""
    for key, path in (("server.awsAuthFile", config.aws_auth_file), ("server.stsCABundle", config.sts_ca_bundle)):
        if path and not Path(path).is_file():
            raise ConfigError(f"{key}: no such file {path}")


class _KubeClient:
    """One ApiClient for every cluster source, made on first use from --kubeconfig/--master or
    the in-cluster service account."""

    def __init__(self, config: ServerConfig) -> None:
        self._kubeconfig = config.kubeconfig
        self._master = config.master
        self._api_client: k8s_client.ApiClient | None = None

    def __call__(self) -> k8s_client.ApiClient:
        if self._api_client is None:
            from authenticator.kube.client import load_api_client

            self._api_client = load_api_client(kubeconfig=self._kubeconfig, master=self._master)
        return self._api_client


def build_mounted_file_source(config: ServerConfig) -> MountedFileSource:
    """The MountedFile source of ``config`` (its mapRoles/mapUsers/mapAccounts and awsAuthFile), read
    strictly as at start: a ``UserError`` for invalid mappings or an unusable awsAuthFile."""
    from authenticator.mapping.sources.file import MountedFileSource

    try:
        return MountedFileSource(
            map_roles=config.map_roles,
            map_users=config.map_users,
            map_accounts=config.map_accounts,
            aws_auth_file=config.aws_auth_file or None,
        )
    except OSError as err:
        raise ConfigError(f"server.awsAuthFile: cannot read {err.filename}: {err.strerror}") from None


def _build_source(mode: str, config: ServerConfig, api_client: Callable[[], k8s_client.ApiClient]) -> MappingSource:
    from authenticator.mapping.sources import modes

    if mode == modes.MOUNTED_FILE:
        return build_mounted_file_source(config)
    if mode == modes.DYNAMIC_FILE:
        from authenticator.mapping.sources.dynamicfile import DynamicFileSource

        if not config.dynamic_file_path:
            raise ConfigError("backend mode DynamicFile needs server.dynamicfilepath")
        return DynamicFileSource(path=config.dynamic_file_path, userid_strict=config.dynamic_file_user_id_strict)
    if mode == modes.EKS_CONFIGMAP:
        from authenticator.mapping.sources.configmap import EKSConfigMapSource

        return EKSConfigMapSource(api_client=api_client())
    if mode == modes.CRD:
        from authenticator.mapping.sources.crd import CRDSource

        return CRDSource(api_client=api_client())
    # ServerConfig normalizes backend_mode through the same table: a mode not built above is ours.
    raise AssertionError(f"backend mode {mode!r} has no source")


def _source_builder(config: ServerConfig) -> Callable[[str], MappingSource]:
    """Builds the source of one mode from ``config``, sharing one Kubernetes client; ``ConfigError``
    naming the mode for anything unusable."""
    api_client = _KubeClient(config)

    def build(mode: str) -> MappingSource:
        try:
            return _build_source(mode, config, api_client)
        except (UserError, UnicodeDecodeError) as exc:  # the config, a file or the kubeconfig it names
            raise ConfigError(f"{mode} source: {exc}") from None

    return build


def build_sources(config: ServerConfig) -> list[MappingSource]:
    """The mapping sources in backend-mode order, sharing one Kubernetes client (made only when a
    cluster source is configured). ``ConfigError`` naming the mode for anything unusable: an
    invalid mapping, a DynamicFile without a path, no kubeconfig/--master outside a cluster.

    The watched sources and DynamicFile's poller are started by the app's lifespan (``start``).
    Paths (``awsAuthFile``, ``dynamicfilepath``) are used as written: relative ones are relative
    to the working directory, as every other path of the config file."""
    build = _source_builder(config)
    return [build(mode) for mode in config.backend_mode]  # already normalized by ServerConfig


class _LazyEC2Resolver:
    """``{{EC2PrivateDNSName}}`` lookups, the resolver built at the first one: a server whose
    mappings never use the placeholder needs no AWS region or credentials, and one that does
    finds out on the first node review, not at start."""

    def __init__(self, config: ServerConfig) -> None:
        self._role_arn = config.ec2_describe_instances_role_arn or None
        self._source_arn = config.source_arn or None
        self._resolver: Callable[[str], Awaitable[str]] | None = None

    async def __call__(self, instance_id: str) -> str:
        if self._resolver is None:
            from authenticator.mapping.ec2 import EC2PrivateDNSNameResolver

            self._resolver = EC2PrivateDNSNameResolver(role_arn=self._role_arn, source_arn=self._source_arn)
        return await self._resolver(instance_id)


def build_sts_client(config: ServerConfig, *, transport: STSTransport | None = None) -> STSClient:
    """The STS client of ``config`` (cluster id, endpoint override and its CA bundle, deadline,
    pool size). ``ConfigError`` for an override or CA bundle it cannot use."""
    from authenticator.sts import STSClient

    try:
        return STSClient(
            cluster_id=config.cluster_id,
            endpoint_override=config.sts_endpoint_override or None,
            ca_bundle=config.sts_ca_bundle or None,
            transport=transport,
            timeout=config.sts_timeout,
            max_connections=config.sts_max_in_flight,
        )
    except (ValueError, OSError) as exc:  # a bad override URL, an unreadable or invalid CA bundle
        raise ConfigError(f"server.stsEndpointOverride/stsCABundle: {exc}") from None


def build_verifier(
    config: ServerConfig,
    *,
    clock: Callable[[], datetime],
    sts_transport: STSTransport | None = None,
) -> tuple[TokenVerifier, VerifiedIdentityCache]:
    """The server's verifier: STS behind the verification cache (cache, coalescing, a bound
    on calls in flight: docs/token.md), the cache's recall first. The cache is returned to be closed."""
    from authenticator.partitions import get_partition
    from authenticator.verification_cache import VerifiedIdentityCache
    from authenticator.verifier import TokenVerifier

    cache = VerifiedIdentityCache(
        build_sts_client(config, transport=sts_transport),
        clock=clock,
        ttl=config.verification_cache_ttl,
        max_entries=config.verification_cache_size,
        max_in_flight=config.sts_max_in_flight,
        wait=config.sts_max_in_flight_wait,
    )
    verifier = TokenVerifier(
        sts=cache,
        partition=get_partition(config.partition),
        clock=clock,
        recall=cache.recall if cache.enabled else None,
        settle=cache.settle if cache.enabled else None,
    )
    return verifier, cache


def build_app(
    config: ServerConfig,
    *,
    clock: Callable[[], datetime] | None = None,
    sts_transport: STSTransport | None = None,
    sources: list[MappingSource] | None = None,
) -> tuple[FastAPI, Reviewer]:
    """The webhook app and its reviewer, built in-process from ``config`` (no TLS, no files written).

    Sources are started in the app's lifespan and stopped with it, as is the STS client.
    """
    from authenticator.mapping.chain import MappingChain
    from authenticator.mapping.sources.backendmodefile import BackendModeFileChain, call_hook
    from authenticator.server.app import create_app
    from authenticator.server.review import Reviewer
    from authenticator.verifier import utc_now

    ec2_resolver = _LazyEC2Resolver(config)

    def make_chain(chain_sources: Sequence[MappingSource]) -> MappingChain:
        return MappingChain(
            chain_sources,
            reserved_prefixes=dict(config.reserved_prefix_config),
            ec2_private_dns_name=ec2_resolver,
        )

    # The chain (its sources, in order) and what starts and stops it: fixed, or following
    # server.dynamicBackendModePath, whose own status joins the sources' on /readyz.
    mapper: MappingChain | BackendModeFileChain
    if sources is None and config.dynamic_backend_mode_path:
        mapper = BackendModeFileChain(
            path=config.dynamic_backend_mode_path,
            configured=config.backend_mode,
            build_source=_source_builder(config),
            make_chain=make_chain,
        )
        parts: list[Any] = [mapper]
    else:
        mapper = make_chain(build_sources(config) if sources is None else sources)
        parts = list(mapper.sources)
    verifier, sts = build_verifier(config, clock=clock or utc_now, sts_transport=sts_transport)
    reviewer = Reviewer(verifier=verifier, mapper=mapper, scrubbed_accounts=config.scrubbed_accounts)

    async def start() -> None:
        # Each source's start only schedules its work (a watch thread, a polling task): the
        # server answers /readyz with 503 until the first list or load, never waits for it.
        for part in parts:
            await call_hook(part, "start")

    async def stop() -> None:
        for part in reversed(parts):
            await call_hook(part, "stop")
        await sts.aclose()

    def readiness() -> dict[str, bool]:
        return {getattr(s, "name", type(s).__name__): bool(s.ready) for s in mapper.sources}

    def problems() -> dict[str, dict[str, str]]:
        statuses = [(s.name, getattr(s, "status", None)) for s in mapper.sources]
        if isinstance(mapper, BackendModeFileChain):
            statuses.append((mapper.name, mapper.status))
        return {name: dict(status().failures) for name, status in statuses if callable(status)}

    admission = None
    if config.admission_enabled:
        from authenticator.admission.route import admission_endpoint

        admission = admission_endpoint(protect_requester=config.admission_protect_requester)
    app = create_app(
        reviewer, readiness, on_startup=[start], on_shutdown=[stop], problems=problems, admission=admission
    )
    return app, reviewer
