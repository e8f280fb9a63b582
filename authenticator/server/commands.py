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
from datetime import UTC, datetime
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

__all__ = [
    "WebhookServer",
    "invocation",
    "listen_socket",
    "prepare_files",
    "run_init",
    "run_server",
    "run_verify",
    "uvicorn_settings",
]

PROG = "eks-iam-authenticator"
_log = logging.getLogger("authenticator.server")


def invocation() -> str:
    """How to run this program in a command line printed for the user to paste: its name when that
    name on PATH is this installation, else the full path of the console script beside this Python
    (a virtual environment that is not activated)."""
    import shutil

    beside = Path(sys.executable).parent / PROG
    found = shutil.which(PROG)
    if not beside.is_file() or (found is not None and Path(found).resolve() == beside.resolve()):
        return PROG
    return str(beside)


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


class WebhookServer:
    """uvicorn's Server, graceful on SIGTERM/SIGINT *and* exiting 0 afterwards, its start-up heap
    frozen out of the garbage collector's sight.

    uvicorn re-raises the signal it caught once it has shut down, which would end the
    process with -SIGTERM; a clean stop on request is success here.

    Once started, ``gc.freeze()`` moves everything alive (modules, the app, its config) to the
    permanent generation. Python's full collections walk every tracked object, and on the
    60,000-70,000 of a started webhook one took 60-80 ms, during which no review is answered; the
    largest cluster's load (docs/performance.md S2) met one every ~25 s. The frozen objects live
    as long as the process anyway; what start-up left as garbage is collected just before.
    """

    def __init__(self, config: Any) -> None:
        import gc

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

            async def startup(self, sockets: list[socket.socket] | None = None) -> None:
                await super().startup(sockets=sockets)
                gc.collect()
                gc.freeze()

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
    _certificate_expiry(tls)
    if not config.kubeconfig_pregenerated:
        path = write_webhook_kubeconfig(config.kubeconfig_path, tls.cert_path, config.hostname, config.port)
        _log.info("wrote the webhook kubeconfig", extra={"fields": {"path": str(path)}})
        guard = _write_guard(config, path.parent, tls.cert_path)
        if guard:
            _log.info("wrote the aws-auth guard's webhook configuration", extra={"fields": {"path": str(guard)}})
    return tls


def _certificate_expiry(tls: TlsFiles, now: datetime | None = None) -> None:
    """Export the certificate's expiry, and warn at start when it is near: the API server refuses an
    expired webhook certificate, and every review with it."""
    from authenticator import metrics
    from authenticator.server.tls import RENEW_WITHIN

    metrics.certificate_expiry.set(tls.not_after.timestamp())
    left = tls.not_after - (now or datetime.now(UTC))
    if left <= RENEW_WITHIN:
        from authenticator.words import counted

        if left.total_seconds() <= 0:
            when = "expired on"
        else:
            when = f"expires in {counted(left.days, 'day')}, on" if left.days else "expires within a day, on"
        _log.warning(
            "the webhook certificate %s %s %s: renew it with `%s init --renew` and give the API server the new "
            "kubeconfig",
            tls.cert_path,
            when,
            f"{tls.not_after:%Y-%m-%d}",
            PROG,
        )


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
        # Nothing reads the client's address, so uvicorn's X-Forwarded-For middleware is a layer
        # every review would pass through for nothing.
        "proxy_headers": False,
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
            # In-flight reviews finish on SIGTERM within the longest one review can take (the
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
        return 0 if WebhookServer(uv_config).run(sock) else 1


def run_init(args: argparse.Namespace) -> int:
    configure_logging(
        getattr(args, "log_format", None) or defaults.LOG_FORMAT,
        getattr(args, "log_verbosity", None) or defaults.LOG_VERBOSITY,
    )
    return _handled("init", _init, args)


def _init_config(args: argparse.Namespace) -> tuple[ServerConfig, Path, Path]:
    """The config ``init`` writes for (``-c`` file, flags on top) and where: the state directory
    (``--state-dir``, else the file's ``stateDir``, else ``.``) and the kubeconfig's path."""
    config, warnings = load_config_with_warnings(getattr(args, "config", None), overrides_from_args(args))
    for warning in warnings:
        _log.warning(warning)
    given = config.model_fields_set
    state_dir = Path(config.state_dir if "state_dir" in given else ".")
    kubeconfig = Path(config.generate_kubeconfig) if config.generate_kubeconfig else state_dir / KUBECONFIG_FILENAME
    return config, state_dir, kubeconfig


def _init(args: argparse.Namespace) -> int:
    import shlex

    from authenticator.server.kubeconfig import write_webhook_kubeconfig
    from authenticator.server.tls import ensure_certificate

    config, state_dir, kubeconfig_path = _init_config(args)
    try:
        tls = ensure_certificate(state_dir, config.hostname, config.address, renew="always" if args.renew else "stale")
        kubeconfig = write_webhook_kubeconfig(kubeconfig_path, tls.cert_path, config.hostname, config.port)
        guard = _write_guard(config, kubeconfig.parent, tls.cert_path)
    except OSError as exc:  # where the user asked us to write: theirs to fix
        raise UserError(f"cannot write into {state_dir}: {exc}") from None
    cert, key = tls.cert_path.resolve(), tls.key_path.resolve()
    until = f"valid until {tls.not_after:%Y-%m-%d}"
    if tls.replaced:
        what = f"renewed {cert} and {key} {tls.replaced} ({until})"
    elif tls.generated:
        what = f"wrote {cert} and {key} ({until})"
    else:
        what = f"kept {cert} and {key} ({until}, names {config.hostname})"
    server = [invocation(), "server", "-i", config.cluster_id]
    if getattr(args, "config", None):
        server += ["-c", str(Path(args.config).resolve())]
    server += [
        "--state-dir",
        str(state_dir.resolve()),
        "--hostname",
        config.hostname,
        "--address",
        config.address,
        "--port",
        str(config.port),
        "--kubeconfig-pregenerated",
    ]
    if guard:
        server.append("--admission")
    lines = [what, f"wrote {kubeconfig.resolve()}"]
    if tls.replaced:
        lines.append("the API server trusts only the certificate in that kubeconfig: give it the new one")
    lines += [
        f"start the API server with --authentication-token-webhook-config-file={kubeconfig.resolve()}",
        "  (and optionally --authentication-token-webhook-version=v1)",
        f"start the webhook with: {shlex.join(server)}",
    ]
    if guard:
        lines += [f"wrote {guard.resolve()}", f"once the webhook serves: kubectl apply -f {guard.resolve()}"]
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0


def _write_guard(config: ServerConfig, directory: Path, cert_path: Path) -> Path | None:
    """With the guard on (``--admission`` or ``server.admission.enabled``): its
    ValidatingWebhookConfiguration, in ``directory`` (the kubeconfig's)."""
    if not config.admission_enabled:
        return None
    from authenticator.admission import webhook_config

    return webhook_config.write(directory / webhook_config.FILENAME, cert_path, config.hostname, config.port)


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
