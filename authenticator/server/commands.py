"""``eks-iam-authenticator server``, ``init`` and ``verify``: the command handlers.

Each handler returns the exit code. A ``UserError`` (a mistake the user can fix: the config,
a file, a port, a token's partition) is one line on stderr and exit 1 (docs/cli.md); anything else
is a bug of ours and ends with a traceback. The parts are built by the composition root
(``authenticator.server.composition``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authenticator import defaults
from authenticator.errors import UserError
from authenticator.server.config import (
    KUBECONFIG_FILENAME,
    ServerConfig,
    load_config_with_warnings,
    overrides_from_args,
)
from authenticator.server.logs import configure_logging

if TYPE_CHECKING:  # the server's heavy imports wait until a handler needs them
    from authenticator.identity import Identity
    from authenticator.server.tls import TlsFiles

__all__ = ["listen_socket", "prepare_files", "run_init", "run_server", "run_verify", "uvicorn_settings"]

PROG = "eks-iam-authenticator"
_log = logging.getLogger("authenticator.server")


def _fail(command: str, message: str) -> int:
    sys.stderr.write(f"{PROG} {command}: {' '.join(message.split())}\n")
    return 1


def _handled(command: str, body: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """``body(args)``, with a UserError as one line on stderr and exit 1 (and nothing broader caught)."""
    try:
        return body(args)
    except UserError as exc:
        return _fail(command, str(exc))


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
        if config.admission_enabled:  # the aws-auth guard's webhook configuration, beside it
            from authenticator.admission import webhook_config

            guard = config.kubeconfig_path.parent / webhook_config.FILENAME
            webhook_config.write(guard, tls.cert_path, config.hostname, config.port)
            _log.info("wrote the aws-auth guard's webhook configuration", extra={"fields": {"path": str(guard)}})
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
    configure_logging(getattr(args, "log_format", None) or defaults.LOG_FORMAT, defaults.LOG_VERBOSITY)
    return _handled("server", _serve, args)


def _serve(args: argparse.Namespace) -> int:
    from authenticator.server.composition import build_app, check_startable

    config = _load(args)
    check_startable(config)
    if config.sts_endpoint_override:
        _log.warning(
            "STS endpoint override in use: tokens are sent to %s, not to their own host (tests and demo only)",
            config.sts_endpoint_override,
        )
    app, _ = build_app(config)
    # Imported once the configuration is known good: a mistake is reported without their cost.
    import uvicorn

    try:
        sock = listen_socket(config.address, config.port)
    except OSError as exc:
        raise UserError(f"cannot listen on {config.address}:{config.port}: {exc.strerror or exc}") from None
    with sock:
        try:
            tls = prepare_files(config)
        except OSError as exc:
            raise UserError(f"cannot write the TLS or kubeconfig files: {exc}") from None
        uv_config = uvicorn.Config(
            app,
            **uvicorn_settings(config.address, config.port, tls),
            # issue 6: in-flight reviews finish on SIGTERM within the longest one review can take (the
            # wait for an STS slot, then the STS call's deadline) and a second to answer.
            timeout_graceful_shutdown=math.ceil(config.sts_max_in_flight_wait + config.sts_timeout + 1.0),
        )
        from authenticator.server.kubeconfig import webhook_url

        _log.info(
            "serving the webhook",
            extra={
                "fields": {
                    "listen": f"{config.address}:{config.port}",
                    "url": webhook_url(config.hostname, config.port),
                }
            },
        )
        return 0 if _Server(uv_config).run(sock) else 1


def run_init(args: argparse.Namespace) -> int:
    configure_logging(
        getattr(args, "log_format", None) or defaults.LOG_FORMAT,
        getattr(args, "log_verbosity", None) or defaults.LOG_VERBOSITY,
    )
    return _handled("init", _init, args)


def _init(args: argparse.Namespace) -> int:
    from authenticator.server.kubeconfig import write_webhook_kubeconfig
    from authenticator.server.tls import ensure_certificate

    state_dir = Path(args.state_dir)
    try:
        tls = ensure_certificate(state_dir, args.hostname, args.address)
        kubeconfig = write_webhook_kubeconfig(state_dir / KUBECONFIG_FILENAME, tls.cert_path, args.hostname, args.port)
        guard = _write_guard(args, state_dir, tls.cert_path)
    except OSError as exc:  # where the user asked us to write: theirs to fix
        raise UserError(f"cannot write into {state_dir}: {exc}") from None
    cert_word = "wrote" if tls.generated else "kept existing"
    sys.stdout.write(
        f"{cert_word} {tls.cert_path} and {tls.key_path}\n"
        f"wrote {kubeconfig}\n"
        f"start the API server with --authentication-token-webhook-config-file={kubeconfig.resolve()}\n"
        f"  (and optionally --authentication-token-webhook-version=v1)\n"
        f"start the webhook with: {PROG} server --state-dir {state_dir} --hostname {args.hostname} "
        f"--address {args.address} --port {args.port} --kubeconfig-pregenerated"
        f"{' --admission' if guard else ''}\n"
    )
    if guard:
        sys.stdout.write(f"wrote {guard}\nonce the webhook serves: kubectl apply -f {guard}\n")
    return 0


def _write_guard(args: argparse.Namespace, state_dir: Path, cert_path: Path) -> Path | None:
    """With ``--admission``: the aws-auth guard's ValidatingWebhookConfiguration, beside the kubeconfig."""
    if not getattr(args, "admission", False):
        return None
    from authenticator.admission import webhook_config

    return webhook_config.write(state_dir / webhook_config.FILENAME, cert_path, args.hostname, args.port)


def _identity_json(identity: Identity) -> dict[str, str]:
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
    configure_logging(
        getattr(args, "log_format", None) or defaults.LOG_FORMAT, getattr(args, "log_verbosity", None) or "warning"
    )
    return _handled("verify", _verify, args)


def _verify(args: argparse.Namespace) -> int:
    from authenticator.partitions import get_partition
    from authenticator.server.composition import build_sts_client
    from authenticator.verifier import Rejected, TokenVerifier, Verified

    if not getattr(args, "config", None) and not args.cluster_id:
        raise UserError("missing cluster id: pass -i/--cluster-id")
    # Without a config file, the config's defaults: the STS client is the server's in every case.
    overrides = {"cluster_id": args.cluster_id, "partition": args.partition}
    config, _ = load_config_with_warnings(getattr(args, "config", None), overrides)
    partition = get_partition(config.partition)  # validated by ServerConfig
    sts = build_sts_client(config)

    async def verify() -> Verified | Rejected:
        try:
            return await TokenVerifier(sts=sts, partition=partition).verify(args.token.strip())
        finally:
            await sts.aclose()

    verified = asyncio.run(verify())
    if isinstance(verified, Rejected):  # the answer to the question asked, not an error of the user's
        return _fail("verify", f"token rejected ({verified.kind}): {verified.reason}")
    fields = _identity_json(verified.identity)
    if args.output == "json":
        sys.stdout.write(json.dumps(fields, indent=2) + "\n")
    else:
        width = max(len(k) for k in fields) + 1
        sys.stdout.write("".join(f"{k + ':':<{width}} {v}\n" for k, v in fields.items()))
    return 0
