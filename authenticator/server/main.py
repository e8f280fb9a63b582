"""``eks-iam-authenticator server``, ``init`` and ``verify``.

Each handler returns the exit code; an expected failure is one line on stderr and 1
(cli.md), never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import logging
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authenticator.server.config import (
    KUBECONFIG_FILENAME,
    ConfigError,
    ServerConfig,
    load_config_with_warnings,
    overrides_from_args,
)
from authenticator.server.logs import configure_logging

if TYPE_CHECKING:  # the server's heavy imports wait until a handler needs them
    from fastapi import FastAPI

    from authenticator.server.review import Reviewer
    from authenticator.server.tls import TlsFiles
    from authenticator.sts_transport import STSTransport

__all__ = [
    "build_app",
    "build_sources",
    "check_startable",
    "listen_socket",
    "prepare_files",
    "run_init",
    "run_server",
    "run_verify",
]

PROG = "eks-iam-authenticator"
_log = logging.getLogger("authenticator.server")


def _fail(command: str, message: str) -> int:
    sys.stderr.write(f"{PROG} {command}: {' '.join(message.split())}\n")
    return 1


def check_startable(config: ServerConfig) -> None:
    """What a valid config may still lack to start: the files it names. ``ConfigError`` with one line."""
    for key, path in (("server.awsAuthFile", config.aws_auth_file), ("server.stsCABundle", config.sts_ca_bundle)):
        if path and not Path(path).is_file():
            raise ConfigError(f"{key}: no such file {path}")


def build_sources(config: ServerConfig) -> list[Any]:
    """The mapping sources in backend-mode order, sharing one Kubernetes client (made only when a
    cluster source is configured). ``ConfigError`` naming the mode for anything unusable: an
    invalid mapping, a DynamicFile without a path, no kubeconfig/--master outside a cluster.

    Paths (``awsAuthFile``, ``dynamicfilepath``) are used as written: relative ones are relative
    to the working directory, as every other path of the config file."""
    from authenticator.mapping.sources.factory import KubeClients, build_source

    server_config = config.model_dump()
    kube = KubeClients(kubeconfig=config.kubeconfig, master=config.master)
    sources: list[Any] = []
    for mode in config.backend_mode:  # already normalized by ServerConfig
        try:
            sources.append(build_source(mode, server_config=server_config, kube=kube))
        except (ValueError, TypeError, KeyError, OSError) as exc:
            raise ConfigError(f"{mode} source: {exc}") from None
    return sources


class _LazyEC2Resolver:
    """``{{EC2PrivateDNSName}}`` lookups, the resolver built at the first one: a server whose
    mappings never use the placeholder needs no AWS region or credentials, and one that does
    finds out on the first node review, not at start."""

    def __init__(self, config: ServerConfig) -> None:
        self._config = config
        self._resolver: Callable[[str], Any] | None = None

    async def __call__(self, instance_id: str) -> str:
        if self._resolver is None:
            from authenticator.mapping.sources.factory import build_ec2_resolver

            self._resolver = build_ec2_resolver(self._config.model_dump())
        return await self._resolver(instance_id)


async def _call(obj: Any, name: str) -> None:
    method = getattr(obj, name, None)
    if method is None:
        return
    outcome = method()
    if inspect.isawaitable(outcome):
        await outcome


def build_app(
    config: ServerConfig,
    *,
    clock: Callable[[], datetime] | None = None,
    sts_transport: STSTransport | None = None,
    sources: list[Any] | None = None,
) -> tuple[FastAPI, Reviewer]:
    """The webhook app and its reviewer, built in-process from ``config`` (no TLS, no files written).

    Sources are started in the app's lifespan and stopped with it, as is the STS client.
    """
    from authenticator.mapping.chain import MappingChain
    from authenticator.partitions import get_partition
    from authenticator.server.app import create_app
    from authenticator.server.review import Reviewer, utc_now
    from authenticator.server.verification_cache import with_verification_cache
    from authenticator.sts import STSClient

    if sources is None:
        sources = build_sources(config)
    chain = MappingChain(
        sources,
        reserved_prefixes=dict(config.reserved_prefix_config),
        ec2_private_dns_name=_LazyEC2Resolver(config),
    )
    try:
        sts = STSClient(
            cluster_id=config.cluster_id,
            endpoint_override=config.sts_endpoint_override or None,
            ca_bundle=config.sts_ca_bundle or None,
            transport=sts_transport,
            timeout=config.sts_timeout,
            max_connections=config.sts_max_in_flight,
        )
    except (ValueError, OSError) as exc:  # a bad override URL, an unreadable or invalid CA bundle
        raise ConfigError(f"server.stsEndpointOverride/stsCABundle: {exc}") from None
    sts = with_verification_cache(sts, config, clock=clock or utc_now)  # issue 6: cache, coalescing, bound
    reviewer = Reviewer(
        sts=sts,
        mapper=chain,
        partition=get_partition(config.partition),
        clock=clock or utc_now,
        scrubbed_accounts=config.scrubbed_accounts,
        recall=sts.recall if sts.enabled else None,
    )

    async def start() -> None:
        # Each source's start only schedules its work (a watch thread, a polling task): the
        # server answers /readyz with 503 until the first list or load, never waits for it.
        for source in sources:
            await _call(source, "start")

    async def stop() -> None:
        for source in reversed(sources):
            await _call(source, "stop")
        await sts.aclose()

    def readiness() -> dict[str, bool]:
        return {getattr(s, "name", type(s).__name__): bool(s.ready) for s in sources}

    def problems() -> dict[str, dict[str, str]]:
        return {s.name: dict(s.status().failures) for s in sources if callable(getattr(s, "status", None))}

    app = create_app(reviewer, readiness, on_startup=[start], on_shutdown=[stop], problems=problems)
    return app, reviewer


def _load(args: argparse.Namespace) -> ServerConfig:
    config, warnings = load_config_with_warnings(getattr(args, "config", None), overrides_from_args(args))
    configure_logging(config.log_format, config.log_verbosity)
    for warning in warnings:
        _log.warning(warning)
    return config


class _Server:
    """uvicorn's Server, graceful on SIGTERM/SIGINT *and* exiting 0 afterwards.

    uvicorn re-raises the signal it caught once it has shut down, which would end the
    process with -SIGTERM; a clean stop on request is success here.
    """

    def __init__(self, config: Any) -> None:
        import uvicorn

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                with super().capture_signals():
                    yield
                    # uvicorn's private list of signals to re-raise after shutdown.
                    self._captured_signals = [
                        s for s in self._captured_signals if s not in (signal.SIGTERM, signal.SIGINT)
                    ]

        self.server = Server(config)

    def run(self, sock: socket.socket) -> bool:
        self.server.run(sockets=[sock])
        return bool(self.server.started)


def listen_socket(address: str, port: int) -> socket.socket:
    """A listening TCP socket for ``address:port`` (OSError when taken), handed to uvicorn so that
    a port in use is our one-line failure rather than uvicorn's exit 3 after its start-up logs."""
    family, kind, proto, _, sockaddr = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(sockaddr)
        sock.listen(2048)  # from here connections queue until the event loop accepts them
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def prepare_files(config: ServerConfig) -> TlsFiles:
    """What ``server`` writes before serving: cert.pem/key.pem in stateDir (generated when missing)
    and, unless ``kubeconfig_pregenerated``, the webhook kubeconfig. OSError on failure."""
    from authenticator.server.kubeconfig import write_webhook_kubeconfig
    from authenticator.server.tls import ensure_certificate

    tls = ensure_certificate(config.state_dir, config.hostname, config.address)
    if not config.kubeconfig_pregenerated:
        path = write_webhook_kubeconfig(config.kubeconfig_path, tls.cert_path, config.hostname, config.port)
        _log.info("wrote the webhook kubeconfig", extra={"fields": {"path": str(path)}})
    return tls


def uvicorn_settings(host: str, port: int, tls: TlsFiles) -> dict[str, Any]:
    """How the webhook is served (the benchmarks serve their app the same way): TLS, our own
    logging only (no access log, whose lines would be per request), no Server header, lifespan on."""
    return {
        "host": host,
        "port": port,
        "ssl_certfile": str(tls.cert_path),
        "ssl_keyfile": str(tls.key_path),
        "log_config": None,
        "access_log": False,
        "server_header": False,
        "lifespan": "on",
    }


def run_server(args: argparse.Namespace) -> int:
    configure_logging(getattr(args, "log_format", None) or "text", "info")
    try:
        config = _load(args)
        check_startable(config)
        if config.sts_endpoint_override:
            _log.warning(
                "STS endpoint override in use: tokens are sent to %s, not to their own host (tests and demo only)",
                config.sts_endpoint_override,
            )
        app, _ = build_app(config)
    except ConfigError as exc:
        return _fail("server", str(exc))
    # Imported once the configuration is known good: a mistake is reported without their cost.
    import uvicorn

    try:
        sock = listen_socket(config.address, config.port)
    except OSError as exc:
        return _fail("server", f"cannot listen on {config.address}:{config.port}: {exc.strerror or exc}")
    try:
        tls = prepare_files(config)
    except OSError as exc:
        sock.close()
        return _fail("server", f"cannot write the TLS or kubeconfig files: {exc}")
    uv_config = uvicorn.Config(
        app,
        **uvicorn_settings(config.address, config.port, tls),
        # issue 6: in-flight reviews finish on SIGTERM within the longest one review can take (the
        # wait for an STS slot, then the STS call's deadline) and a second to answer.
        timeout_graceful_shutdown=config.sts_max_in_flight_wait + config.sts_timeout + 1.0,
    )
    from authenticator.server.kubeconfig import webhook_url

    _log.info(
        "serving the webhook",
        extra={
            "fields": {"listen": f"{config.address}:{config.port}", "url": webhook_url(config.hostname, config.port)}
        },
    )
    with sock:
        return 0 if _Server(uv_config).run(sock) else 1


def run_init(args: argparse.Namespace) -> int:
    from authenticator.server.kubeconfig import write_webhook_kubeconfig
    from authenticator.server.tls import ensure_certificate

    configure_logging(getattr(args, "log_format", None) or "text", getattr(args, "log_verbosity", None) or "info")
    state_dir = Path(args.state_dir)
    try:
        tls = ensure_certificate(state_dir, args.hostname, args.address)
        kubeconfig = write_webhook_kubeconfig(state_dir / KUBECONFIG_FILENAME, tls.cert_path, args.hostname, args.port)
    except OSError as exc:
        return _fail("init", f"cannot write into {state_dir}: {exc}")
    cert_word = "wrote" if tls.generated else "kept existing"
    sys.stdout.write(
        f"{cert_word} {tls.cert_path} and {tls.key_path}\n"
        f"wrote {kubeconfig}\n"
        f"start the API server with --authentication-token-webhook-config-file={kubeconfig.resolve()}\n"
        f"  (and optionally --authentication-token-webhook-version=v1)\n"
        f"start the webhook with: {PROG} server --state-dir {state_dir} --hostname {args.hostname} "
        f"--address {args.address} --port {args.port} --kubeconfig-pregenerated\n"
    )
    return 0


def _identity_json(identity: Any) -> dict[str, str]:
    # The reference prints its Identity struct with Go's default field names; keep them.
    return {
        "ARN": identity.arn,
        "CanonicalARN": identity.canonical_arn,
        "AccountID": identity.account_id,
        "UserID": identity.user_id,
        "SessionName": identity.session_name,
        "AccessKeyID": identity.access_key_id,
        "STSEndpoint": identity.sts_endpoint,
    }


def run_verify(args: argparse.Namespace) -> int:
    from authenticator.partitions import get_partition
    from authenticator.server.review import utc_now
    from authenticator.sts import STSClient
    from authenticator.token import TokenRejected, parse_token

    configure_logging(getattr(args, "log_format", None) or "text", getattr(args, "log_verbosity", None) or "warning")
    endpoint, ca_bundle, cluster_id = None, None, args.cluster_id
    if getattr(args, "config", None):
        try:
            config, _ = load_config_with_warnings(args.config, {"cluster_id": args.cluster_id})
        except ConfigError as exc:
            return _fail("verify", str(exc))
        endpoint, ca_bundle = config.sts_endpoint_override or None, config.sts_ca_bundle or None
        cluster_id = config.cluster_id
    if not cluster_id:
        return _fail("verify", "missing cluster id: pass -i/--cluster-id")
    try:
        partition = get_partition(args.partition)
    except KeyError as exc:
        return _fail("verify", str(exc.args[0]))

    async def verify() -> Any:
        client = STSClient(cluster_id=cluster_id, endpoint_override=endpoint, ca_bundle=ca_bundle)
        try:
            request = parse_token(args.token.strip(), now=utc_now(), partition=partition)
            return await client.get_caller_identity(request)
        finally:
            await client.aclose()

    try:
        identity = asyncio.run(verify())
    except TokenRejected as exc:
        return _fail("verify", f"token rejected ({exc.kind}): {exc.reason}")
    fields = _identity_json(identity)
    if args.output == "json":
        sys.stdout.write(json.dumps(fields, indent=2) + "\n")
    else:
        width = max(len(k) for k in fields) + 1
        sys.stdout.write("".join(f"{k + ':':<{width}} {v}\n" for k, v in fields.items()))
    return 0
