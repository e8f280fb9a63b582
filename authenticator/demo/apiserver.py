"""An HTTPS stand-in for kube-apiserver that authenticates through the token webhook.

For each request carrying `Authorization: Bearer <token>` it sends a TokenReview to the
webhook named in a webhook kubeconfig, as kube-apiserver does with
`--authentication-token-webhook-config-file` (no cache: every request is reviewed), and answers
what `kubectl auth whoami` and `kubectl get --raw /version` need (docs/testing.md "kubectl end to end"):

- `POST /apis/authentication.k8s.io/{v1,v1beta1,v1alpha1}/selfsubjectreviews` → 201 SelfSubjectReview;
- `GET /version`, and the discovery documents `/api`, `/apis`, `/apis/authentication.k8s.io/v1`;
- 401 with a `Status` object, as the API server words it, when the webhook does not say yes.

Like kube-apiserver, it adds the group `system:authenticated` to every authenticated user.

Tests that need kube-apiserver's side of a bearer token without a webhook behind it (a client's
tests: did kubectl send the plugin's token?) give `check`, a function from the token to the user
info or None, in place of the webhook kubeconfig; `authorizations` records what each request sent.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import shutil
import ssl
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import yaml

from authenticator.demo._tls import TlsFiles, https_server, make_tls

KUBE_VERSION = {
    "major": "1",
    "minor": "33",
    "gitVersion": "v1.33.0-standin",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-04-23T00:00:00Z",
    "goVersion": "go1.24.2",
    "compiler": "gc",
    "platform": "linux/amd64",
}
_AUTHN_GROUP = "authentication.k8s.io"
_SELF_REVIEW_VERSIONS = ("v1", "v1beta1", "v1alpha1")
_WEBHOOK_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class _Webhook:
    """Where and how to reach the webhook, read from its kubeconfig."""

    server: str
    ssl_context: ssl.SSLContext
    bearer_token: str | None


def _pem_file(directory: Path, name: str, data: bytes) -> str:
    path = directory / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return str(path)


def _named(items: Sequence[Mapping[str, Any]] | None, name: str | None, key: str) -> Mapping[str, Any]:
    items = list(items or [])
    if not items:
        raise ValueError(f"webhook kubeconfig has no {key}s")
    for item in items:
        if name is None or item.get("name") == name:
            return item.get(key) or {}
    raise ValueError(f"webhook kubeconfig has no {key} named {name!r}")


def _load_webhook(kubeconfig_path: str, scratch: Path) -> _Webhook:
    """Read the webhook kubeconfig the way kube-apiserver does: the current context's cluster
    (server, certificate-authority[-data]) and user (client certificate, token), if any."""
    base = Path(kubeconfig_path).resolve().parent
    config = yaml.safe_load(Path(kubeconfig_path).read_text()) or {}
    context: Mapping[str, Any] = {}
    if config.get("current-context"):
        context = _named(config.get("contexts"), config["current-context"], "context")
    cluster = _named(config.get("clusters"), context.get("cluster"), "cluster")
    users = config.get("users") or []
    user = _named(users, context.get("user"), "user") if users else {}

    ctx = ssl.create_default_context()
    if cluster.get("insecure-skip-tls-verify"):
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif cluster.get("certificate-authority-data"):
        ctx = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    elif cluster.get("certificate-authority"):
        ctx = ssl.create_default_context(cafile=str(base / cluster["certificate-authority"]))

    cert = key = None
    if user.get("client-certificate-data"):
        cert = _pem_file(scratch, "webhook-client.pem", base64.b64decode(user["client-certificate-data"]))
    elif user.get("client-certificate"):
        cert = str(base / user["client-certificate"])
    if user.get("client-key-data"):
        key = _pem_file(scratch, "webhook-client-key.pem", base64.b64decode(user["client-key-data"]))
    elif user.get("client-key"):
        key = str(base / user["client-key"])
    if cert:
        ctx.load_cert_chain(cert, key)
    if not cluster.get("server"):
        raise ValueError("webhook kubeconfig has no cluster server")
    return _Webhook(server=cluster["server"], ssl_context=ctx, bearer_token=user.get("token"))


def status_body(code: int, reason: str, message: str) -> dict[str, Any]:
    """A ``kind: Status`` failure body, as kube-apiserver answers an error."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def _discovery(path: str) -> dict[str, Any] | None:
    group_version = {"groupVersion": f"{_AUTHN_GROUP}/v1", "version": "v1"}
    if path == "/api":
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
        }
    if path == "/apis":
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [{"name": _AUTHN_GROUP, "versions": [group_version], "preferredVersion": group_version}],
        }
    if path == f"/apis/{_AUTHN_GROUP}/v1":
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{_AUTHN_GROUP}/v1",
            "resources": [
                {"name": "selfsubjectreviews", "singularName": "", "namespaced": False, "kind": "SelfSubjectReview",
                 "verbs": ["create"]},
                {"name": "tokenreviews", "singularName": "", "namespaced": False, "kind": "TokenReview",
                 "verbs": ["create"]},
            ],
        }  # fmt: skip
    return None


class ApiServerStandIn(AbstractContextManager["ApiServerStandIn"]):
    """kube-apiserver's authentication path on https://127.0.0.1:PORT (a free port).

    Attributes once started: `url`, `ca_path`, `ca_data` (base64 PEM, as in a kubeconfig);
    `last_review` (the last TokenReview the webhook answered, as JSON, or None),
    `reviews` (how many TokenReviews were sent), `requests` ((method, path) received, in order),
    `authorizations` (each request's Authorization header or None, in order).
    """

    def __init__(
        self,
        webhook_kubeconfig: str | None = None,
        *,
        check: Callable[[str], Mapping[str, Any] | None] | None = None,
        webhook_version: str = "v1",
        audiences: Sequence[str] | None = None,
        state_dir: str | None = None,
    ) -> None:
        if webhook_version not in ("v1", "v1beta1"):
            raise ValueError("webhook_version must be v1 or v1beta1")
        if (webhook_kubeconfig is None) == (check is None):
            raise ValueError("give either a webhook kubeconfig or a check")
        self.webhook_kubeconfig = webhook_kubeconfig
        self._check = check
        self.authorizations: list[str | None] = []
        self.webhook_version = webhook_version
        self.audiences = list(audiences or [])
        self.last_review: dict[str, Any] | None = None
        self.reviews = 0
        self.requests: list[tuple[str, str]] = []
        self._state_dir = state_dir
        self._lock = threading.Lock()
        self._stack: ExitStack | None = None
        self._tls: TlsFiles | None = None
        self._webhook_client: httpx.Client | None = None
        self._webhook: _Webhook | None = None
        self._port = 0

    # -- lifecycle -------------------------------------------------------------

    @property
    def url(self) -> str:
        if not self._port:
            raise RuntimeError("ApiServerStandIn is not started")
        return f"https://127.0.0.1:{self._port}"

    @property
    def ca_path(self) -> str:
        if self._tls is None:
            raise RuntimeError("ApiServerStandIn is not started")
        return self._tls.ca_path

    @property
    def ca_data(self) -> str:
        if self._tls is None:
            raise RuntimeError("ApiServerStandIn is not started")
        return base64.b64encode(self._tls.ca_pem).decode("ascii")

    def start(self) -> ApiServerStandIn:
        stack = ExitStack()
        try:
            directory = self._state_dir or stack.enter_context(tempfile.TemporaryDirectory(prefix="apiserver-"))
            self._tls = make_tls(directory)
            if self.webhook_kubeconfig is not None:
                self._webhook = _load_webhook(self.webhook_kubeconfig, Path(directory))
                self._webhook_client = stack.enter_context(
                    httpx.Client(verify=self._webhook.ssl_context, timeout=_WEBHOOK_TIMEOUT, follow_redirects=False)
                )
            server = stack.enter_context(https_server(_handler_for(self), self._tls))
        except BaseException:
            stack.close()
            raise
        self._port = server.server_address[1]
        self._stack = stack
        return self

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
        self._stack = None
        self._port = 0

    def __enter__(self) -> ApiServerStandIn:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- kubeconfig for kubectl --------------------------------------------------

    def kubeconfig(self, exec: Mapping[str, Any] | None = None, token: str | None = None) -> str:
        """A kubeconfig (YAML text) for this stand-in, trusting its CA, with either an exec
        block (the `user.exec` mapping; apiVersion defaults to v1beta1, interactiveMode to Never)
        or a static bearer token."""
        if exec is not None and token is not None:
            raise ValueError("give an exec block or a token, not both")
        user: dict[str, Any] = {}
        if exec is not None:
            user["exec"] = {"apiVersion": "client.authentication.k8s.io/v1beta1", "interactiveMode": "Never", **exec}
        elif token is not None:
            user["token"] = token
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "standin", "cluster": {"server": self.url, "certificate-authority-data": self.ca_data}}
            ],
            "users": [{"name": "standin-user", "user": user}],
            "contexts": [{"name": "standin", "context": {"cluster": "standin", "user": "standin-user"}}],
            "current-context": "standin",
            "preferences": {},
        }
        return yaml.safe_dump(config, sort_keys=False)

    def kubeconfig_for(self, exec_block: Mapping[str, Any]) -> str:
        """The contract's name for `kubeconfig(exec=exec_block)`."""
        return self.kubeconfig(exec=exec_block)

    def write_kubeconfig(self, path: str, exec: Mapping[str, Any] | None = None, token: str | None = None) -> str:
        """Write `kubeconfig(...)` to `path` (mode 0600: it may hold a token); returns the path."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.kubeconfig(exec=exec, token=token))
        return path

    # -- authentication ----------------------------------------------------------

    def authenticate(self, token: str) -> dict[str, Any] | None:
        """Review `token` with the webhook as kube-apiserver does; the user info when the webhook
        says authenticated, else None (any error, non-2xx answer or malformed body is a no).
        With `check` in place of a webhook, the user info is what `check` says."""
        if self._check is not None:
            found = self._check(token)
            return None if found is None else _authenticated(dict(found))
        assert self._webhook is not None and self._webhook_client is not None
        api_version = f"{_AUTHN_GROUP}/{self.webhook_version}"
        spec: dict[str, Any] = {"token": token}
        if self.audiences:
            spec["audiences"] = self.audiences
        # kube-apiserver serialises the empty status too.
        review = {
            "kind": "TokenReview",
            "apiVersion": api_version,
            "metadata": {"creationTimestamp": None},
            "spec": spec,
            "status": {"user": {}},
        }
        headers = {"Content-Type": "application/json", "Accept": "application/json, */*"}
        if self._webhook.bearer_token:
            headers["Authorization"] = f"Bearer {self._webhook.bearer_token}"
        with self._lock:
            self.reviews += 1
        try:
            response = self._webhook_client.post(self._webhook.server, content=json.dumps(review), headers=headers)
            answer = response.json()
        except (httpx.HTTPError, ValueError):
            return None
        with self._lock:
            self.last_review = answer if isinstance(answer, dict) else None
        if not 200 <= response.status_code < 300 or not isinstance(answer, dict):
            return None
        if answer.get("kind") != "TokenReview" or answer.get("apiVersion") != api_version:
            return None
        status = answer.get("status") or {}
        if status.get("authenticated") is not True:
            return None
        return _authenticated(status.get("user") or {})

    def _record(self, method: str, path: str, authorization: str | None) -> None:
        with self._lock:
            self.requests.append((method, path))
            self.authorizations.append(authorization)


def _authenticated(user: Mapping[str, Any]) -> dict[str, Any] | None:
    """The user info kube-apiserver keeps from an authenticator's yes, or None if it is no user."""
    if not isinstance(user.get("username"), str) or not user["username"]:
        return None
    groups = [g for g in user.get("groups") or [] if isinstance(g, str)]
    if "system:authenticated" not in groups:
        groups.append("system:authenticated")
    info: dict[str, Any] = {"username": user["username"], "groups": groups}
    if user.get("uid"):
        info["uid"] = user["uid"]
    if user.get("extra"):
        info["extra"] = user["extra"]
    return info


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _handler_for(standin: ApiServerStandIn) -> type[http.server.BaseHTTPRequestHandler]:
    class _Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as kubectl expects
        server_version = "kube-apiserver-standin"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test output is for the tests."""

        def _send_json(self, code: int, body: Mapping[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-cache, private")
            self.end_headers()
            self.wfile.write(data)

        def _read_body(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)  # a protobuf SelfSubjectReview; its content does not matter

        def _handle(self) -> None:
            path = self.path.split("?", 1)[0]
            authorization = self.headers.get("Authorization")
            standin._record(self.command, path, authorization)
            self._read_body()
            token = _bearer(authorization)
            user = standin.authenticate(token) if token else None
            if user is None:
                self._send_json(401, status_body(401, "Unauthorized", "Unauthorized"))
                return
            self._route(path, user)

        def _route(self, path: str, user: dict[str, Any]) -> None:
            for version in _SELF_REVIEW_VERSIONS:
                if self.command == "POST" and path == f"/apis/{_AUTHN_GROUP}/{version}/selfsubjectreviews":
                    review = {
                        "kind": "SelfSubjectReview",
                        "apiVersion": f"{_AUTHN_GROUP}/{version}",
                        "metadata": {"creationTimestamp": None},
                        "status": {"userInfo": user},
                    }
                    self._send_json(201, review)
                    return
            if self.command == "GET" and path == "/version":
                self._send_json(200, KUBE_VERSION)
                return
            document = _discovery(path) if self.command == "GET" else None
            if document is not None:
                self._send_json(200, document)
                return
            self._send_json(404, status_body(404, "NotFound", "the server could not find the requested resource"))

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    return _Handler


def find_kubectl() -> str | None:
    """The plain versioned kubectl beside the dispatcher (docs/exec-plugin.md: the dispatcher runs
    exec plugins once more on failure), else whatever `kubectl` is, else None."""
    found = shutil.which("kubectl")
    if not found:
        return None
    plain = Path(os.path.realpath(found)).parent / "kubectl.1.33"
    return str(plain) if plain.is_file() and os.access(plain, os.X_OK) else found
