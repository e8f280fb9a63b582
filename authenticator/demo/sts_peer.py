"""moto as an STS (and IAM) peer over HTTPS, with the presigned-URL checks real STS makes.

Stock moto is not an honest STS for EKS tokens (docs/testing.md): it routes a presigned
`GET /?Action=GetCallerIdentity` to S3, answers XML to `Accept: application/json`, and never
checks a presigned signature, its age or the signed `x-k8s-aws-id` header. `StsPeer` wraps
moto's WSGI app to fix all three: it checks the SigV4 query signature with the caller's
secret taken from moto's own IAM/STS stores, and only then lets moto answer.

moto's state is process-global: run one peer per process at a time, and `reset()` it
between tests. `MOTO_ACCOUNT_ID` in the environment would override every account: leave it unset.
`StsPeer(tls=False)` serves plain HTTP, for a client under test that is pointed at it by endpoint
URL alone (the token plugin's AssumeRole tests).

    with StsPeer() as peer:
        user = peer.create_user("alice")
        # tokens for https://sts.us-east-1.amazonaws.com/…; the verifier connects to
        # peer.url (trusting peer.ca_path) and keeps `Host: sts.us-east-1.amazonaws.com`.
"""

from __future__ import annotations

import json
import socket
import tempfile
import threading
import time
import uuid
import warnings
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, NamedTuple, Protocol
from urllib.parse import unquote
from xml.sax.saxutils import escape

from authenticator.demo._sigv4 import (
    PresignedQuery,
    SigV4Error,
    check_scope,
    check_signature,
    parse_presigned_query,
)
from authenticator.demo._tls import TlsFiles, make_tls

DEFAULT_ACCOUNT = "123456789012"  # moto's default account
_START_TIMEOUT = 15.0
_STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"
_TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Credentials(NamedTuple):
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


class PeerUser(NamedTuple):
    arn: str
    access_key_id: str
    secret_access_key: str

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.access_key_id, self.secret_access_key)


class _HasKeys(Protocol):
    @property
    def access_key_id(self) -> str: ...
    @property
    def secret_access_key(self) -> str: ...


class _KeyRecord(NamedTuple):
    secret_access_key: str
    session_token: str | None  # set for STS temporary credentials (ASIA…)
    expires_at: datetime | None
    active: bool


def _lookup_key(access_key_id: str) -> _KeyRecord | None:
    """Find an access key in moto's stores: IAM keys of every account, then STS sessions.

    IAM keeps both user keys and the temporary keys AssumeRole creates in
    `iam_backends[account][partition].access_keys`; the session token and the expiry of a
    temporary key live on the `AssumedRole` in `sts_backends[account][partition].assumed_roles`.
    """
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    # list() copies: moto's dicts may grow in another thread while we look.
    for account in list(iam_backends.values()):
        for backend in list(account.values()):
            key = backend.access_keys.get(access_key_id)
            if key is None:
                continue
            record = _KeyRecord(key.secret_access_key, None, None, key.status == "Active")
            for sts_account in list(sts_backends.values()):
                for sts_backend in list(sts_account.values()):
                    for role in list(sts_backend.assumed_roles):
                        if role.access_key_id == access_key_id:
                            expires = role.expiration.replace(tzinfo=UTC)
                            return record._replace(session_token=role.session_token, expires_at=expires)
            return record
    return None


def _wants_json(environ: dict[str, Any]) -> bool:
    return "application/json" in environ.get("HTTP_ACCEPT", "")


def _error_response(environ: dict[str, Any], start_response: Callable[..., Any], error: SigV4Error) -> list[bytes]:
    """An error as STS words it: JSON when the caller accepts JSON, else the XML ErrorResponse."""
    request_id = str(uuid.uuid4())
    kind = "Sender"
    if _wants_json(environ):
        body = json.dumps(
            {"Error": {"Code": error.code, "Message": error.message, "Type": kind}, "RequestId": request_id}
        ).encode()
        content_type = "application/json"
    else:
        body = (
            f'<ErrorResponse xmlns="{_STS_XMLNS}"><Error><Type>{kind}</Type><Code>{escape(error.code)}</Code>'
            f"<Message>{escape(error.message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        content_type = "text/xml"
    status = {400: "400 Bad Request", 403: "403 Forbidden"}.get(error.status, f"{error.status} Error")
    start_response(
        status,
        [("Content-Type", content_type), ("Content-Length", str(len(body))), ("x-amzn-RequestId", request_id)],
    )
    return [body]


def _is_presigned_caller_identity(environ: dict[str, Any]) -> bool:
    """A query-signed STS call: no Authorization header, and a GetCallerIdentity action or any
    SigV4 query parameter in any spelling. All of these are checked here; none reaches moto's
    router, which would send them to S3 (a 200 ListAllMyBucketsResult)."""
    if environ.get("HTTP_AUTHORIZATION"):
        return False
    for part in environ.get("QUERY_STRING", "").split("&"):
        key, _, value = part.partition("=")
        key = unquote(key).lower()
        if key in ("x-amz-signature", "x-amz-credential") or (
            key == "action" and unquote(value) == "GetCallerIdentity"
        ):
            return True
    return False


class _StsWrapper:
    """WSGI middleware in front of moto's DomainDispatcherApplication."""

    def __init__(self, peer: StsPeer, moto_app: WsgiApp, sts_app: WsgiApp) -> None:
        self._peer = peer
        self._moto = moto_app
        # Checked requests go straight to moto's STS app: the dispatcher's routing costs more
        # than the whole STS answer (it stats moto's module directories on every request).
        self._sts = sts_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not _is_presigned_caller_identity(environ):
            return self._moto(environ, start_response)
        self._peer._count_presigned()
        injected = self._peer._next_injected_error()
        if injected is not None:
            return _error_response(environ, start_response, injected)
        try:
            query = self._verify(environ)
        except SigV4Error as error:
            return _error_response(environ, start_response, error)
        return self._sts(self._moto_environ(environ, query), start_response)

    def _verify(self, environ: dict[str, Any]) -> PresignedQuery:
        if environ.get("REQUEST_METHOD") != "GET":
            raise SigV4Error("SignatureDoesNotMatch", "A presigned GetCallerIdentity must be a GET")
        query = parse_presigned_query(environ.get("QUERY_STRING", ""))
        headers = {
            "host": environ.get("HTTP_HOST", ""),
            "x-k8s-aws-id": environ.get("HTTP_X_K8S_AWS_ID", ""),
        }
        now = self._peer.now()
        check_scope(query, host=headers["host"], now=now)
        record = _lookup_key(query.access_key_id)
        invalid = SigV4Error("InvalidClientTokenId", "The security token included in the request is invalid.")
        if record is None or not record.active or record.session_token != query.security_token:
            raise invalid
        extra = [n for n in query.signed_headers if n not in headers]
        if extra:
            # Only the two headers a token signs are reconstructed; anything else cannot match.
            raise SigV4Error("SignatureDoesNotMatch", f"Unexpected signed header(s): {', '.join(extra)}")
        check_signature(
            query,
            method="GET",
            path=environ.get("PATH_INFO", "/"),
            headers=headers,
            secret_access_key=record.secret_access_key,
        )
        if record.expires_at is not None and now >= record.expires_at:
            raise SigV4Error("ExpiredToken", "The security token included in the request is expired")
        return query

    @staticmethod
    def _moto_environ(environ: dict[str, Any], query: PresignedQuery) -> dict[str, Any]:
        """Route to moto's STS (pitfall 1) and ask for JSON when the caller does (pitfall 2)."""
        forwarded = dict(environ)
        forwarded["HTTP_AUTHORIZATION"] = (
            f"AWS4-HMAC-SHA256 Credential={query.access_key_id}/{query.credential_scope}, "
            f"SignedHeaders={';'.join(query.signed_headers)}, Signature={query.signature}"
        )
        if _wants_json(environ) and "ContentType=JSON" not in environ.get("QUERY_STRING", "").split("&"):
            forwarded["QUERY_STRING"] = environ.get("QUERY_STRING", "") + "&ContentType=JSON"
        return forwarded


def _asgi_from_wsgi(app: WsgiApp) -> Any:
    """uvicorn's WSGI adapter (a2wsgi when installed). Its built-in one warns that it is
    deprecated; it still serves keep-alive TLS, which werkzeug's dev server does not."""
    try:
        from a2wsgi import WSGIMiddleware
    except ImportError:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            # uvicorn binds this public name by a conditional import (a2wsgi's class, else its
            # own), which mypy does not count as an export.
            from uvicorn.middleware.wsgi import WSGIMiddleware  # type: ignore[attr-defined]

            return WSGIMiddleware(app, workers=16)
    return WSGIMiddleware(app, workers=16)


def _server_class() -> type[Any]:
    import uvicorn

    class _Server(uvicorn.Server):
        """uvicorn, minus the wait for idle TLS keep-alive clients at stop: an idle client never
        answers the TLS close, so a graceful shutdown would sit out its whole timeout."""

        async def shutdown(self, sockets: Any = None) -> None:
            for connection in list(self.server_state.connections):
                transport = getattr(connection, "transport", None)
                if transport is not None:
                    transport.abort()
            await super().shutdown(sockets)

    return _Server


def utc_now() -> datetime:
    return datetime.now(UTC)


class StsPeer:
    """moto's STS and IAM over HTTPS on 127.0.0.1 (a free port), checking presigned requests.

    Attributes: `url` ("https://127.0.0.1:PORT", or http:// without TLS), `ca_path` (PEM to trust), `region`,
    `now` (the clock used for the 15-minute validity; replace it to test expiry),
    `presigned_requests` (how many presigned GetCallerIdentity requests arrived).
    """

    def __init__(self, *, region: str = "us-east-1", state_dir: str | None = None, tls: bool = True) -> None:
        self.region = region
        self.tls = tls
        self.now: Callable[[], datetime] = utc_now
        self.presigned_requests = 0
        self._state_dir = state_dir
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._tls: TlsFiles | None = None
        self._server: Any = None
        self._asgi: Any = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._lock = threading.Lock()
        self._injected: deque[SigV4Error] = deque()
        self._clients: dict[tuple[str, str | None, str | None], Any] = {}

    # -- lifecycle -------------------------------------------------------------

    @property
    def url(self) -> str:
        if not self._port:
            raise RuntimeError("StsPeer is not started")
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self._port}"

    @property
    def ca_path(self) -> str:
        if self._tls is None:
            raise RuntimeError("StsPeer is not started with TLS")
        return self._tls.ca_path

    def start(self) -> StsPeer:
        import uvicorn
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        directory = self._state_dir
        if directory is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="sts-peer-")
            directory = self._tmp.name
        tls: dict[str, Any] = {}
        if self.tls:
            self._tls = make_tls(directory)
            tls = {"ssl_certfile": self._tls.cert_path, "ssl_keyfile": self._tls.key_path}
        app = _StsWrapper(self, DomainDispatcherApplication(create_backend_app), create_backend_app("sts"))
        self._asgi = _asgi_from_wsgi(app)
        config = uvicorn.Config(
            self._asgi,
            **tls,
            interface="asgi3",
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,  # the access log would print presigned URLs
            timeout_graceful_shutdown=2,
        )
        self._server = _server_class()(config)
        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets whose proto says
        # TCP, and without it every keep-alive answer waits ~40 ms (Nagle + delayed ACK).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="sts-peer", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the STS peer did not start")
            threading.Event().wait(0.01)
        return self

    def stop(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()  # closes its keep-alive connections, so the server can stop at once
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        executor = getattr(self._asgi, "executor", None)  # the WSGI adapter's worker threads
        if executor is not None:
            executor.shutdown(wait=False)
        self._asgi = None
        self._server = None
        self._thread = None
        self._port = 0
        self._tls = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> StsPeer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every user, key, role and session (moto's `POST /moto-api/reset`), and the counters."""
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        with self._lock:
            self._injected.clear()
            self.presigned_requests = 0

    # -- failure injection -----------------------------------------------------

    def inject_error(self, status: int, code: str, message: str, times: int = 1) -> None:
        """Answer the next `times` presigned GetCallerIdentity requests with this STS error
        (e.g. 400 Throttling "Rate exceeded"), before any check."""
        with self._lock:
            self._injected.extend(SigV4Error(code, message, status) for _ in range(times))

    def _next_injected_error(self) -> SigV4Error | None:
        with self._lock:
            return self._injected.popleft() if self._injected else None

    def _count_presigned(self) -> None:
        with self._lock:
            self.presigned_requests += 1

    # -- identities through moto's own API -------------------------------------

    def client(self, service: str, *, credentials: _HasKeys | None = None, account: str | None = None) -> Any:
        """A boto3 client for this peer (`iam` or `sts`); `account` selects the moto account."""
        import boto3
        from botocore.config import Config

        key = (service, getattr(credentials, "access_key_id", None), account)
        with self._lock:
            cached = self._clients.get(key)
        if cached is not None:
            return cached
        creds = credentials or Credentials("testing", "testing")
        client = boto3.session.Session().client(
            service,
            region_name=self.region,
            endpoint_url=self.url,
            verify=self.ca_path if self.tls else None,
            aws_access_key_id=creds.access_key_id,
            aws_secret_access_key=creds.secret_access_key,
            aws_session_token=getattr(creds, "session_token", None),
            config=Config(retries={"max_attempts": 1}),
        )
        if account is not None:

            def _add_account(request: Any, **_: Any) -> None:
                request.headers["x-moto-account-id"] = account

            client.meta.events.register("before-sign.*.*", _add_account)
        with self._lock:
            self._clients[key] = client
        return client

    def create_user(self, name: str, *, account: str | None = None, path: str = "/") -> PeerUser:
        """An IAM user with one access key: (arn, access_key_id, secret_access_key)."""
        iam = self.client("iam", account=account)
        arn = iam.create_user(UserName=name, Path=path)["User"]["Arn"]
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return PeerUser(arn, key["AccessKeyId"], key["SecretAccessKey"])

    def create_role(self, name: str, *, account: str | None = None, path: str = "/") -> str:
        """An IAM role anyone may assume; its ARN. Create a role before assuming it: moto makes
        up a new random `AROA…` id on every call for a role it does not know."""
        iam = self.client("iam", account=account)
        arn: str = iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=_TRUST_POLICY)["Role"]["Arn"]
        return arn

    def assumed_roles(self, account: str = DEFAULT_ACCOUNT) -> list[Any]:
        """The sessions AssumeRole has handed out in `account` (moto's own records)."""
        from moto.sts.models import sts_backends

        return list(sts_backends[account]["aws"].assumed_roles)

    def assume_role(self, credentials: _HasKeys, role_arn: str, session_name: str) -> Credentials:
        """STS AssumeRole with `credentials`; the temporary credentials it returns."""
        sts = self.client("sts", credentials=credentials)
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
        return Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
