"""An HTTPS stand-in for kube-apiserver's storage: list and watch as the real one does, for two
resources. (Its authentication path, what kubectl talks to, is the demo's ``ApiServerStandIn``:
a different job, so a different peer.)

Serves ConfigMaps (``/api/v1/namespaces/{ns}/configmaps[/{name}]``) and the cluster-scoped
IAMIdentityMapping CRD (``/apis/iamauthenticator.k8s.aws/v1alpha1/iamidentitymappings[/{name}]``):

- list answers carry ``metadata.resourceVersion``; every write bumps one global resourceVersion,
  like etcd's revision;
- ``?watch=true&resourceVersion=N`` streams, with ``Transfer-Encoding: chunked``, one JSON event
  per line for every change after N (``ADDED``/``MODIFIED``/``DELETED``), then waits for more
  until ``timeoutSeconds``;
- a resourceVersion older than the compaction point gets ``410 Gone``: by default as the real
  server does it (HTTP 200, then an ``ERROR`` event holding a 410 Status), or as an HTTP 410;
- ``fieldSelector=metadata.name=X`` is honoured; PUT checks ``metadata.resourceVersion`` (409
  on mismatch) and can be told to answer 409 a few times; POST of an existing name is 409;
- every request must carry the bearer token of the kubeconfig this module writes.

Test controls: :meth:`apply`, :meth:`delete`, :meth:`compact`, :meth:`drop_watches`,
:meth:`inject_conflicts`, and :attr:`requests` (method, path, query) for assertions.
The real ``kubernetes`` Python client talks to it through :meth:`write_kubeconfig`.

For kubectl (``kubectl apply``, ``--dry-run=server``) it also serves the legacy discovery
documents (``/api``, ``/api/v1``, ``/apis``), merge-patches (PATCH) and ``dryRun=All``. With a
ValidatingWebhookConfiguration registered (:meth:`register_admission`, e.g. the one our server
writes), every write of a ConfigMap kube-system/aws-auth is first sent to that webhook as
kube-apiserver sends it: an ``admission.k8s.io/v1`` AdmissionReview over TLS trusting the
``caBundle``; a denial becomes the API's error (``admission webhook "<name>" denied the request:
...``), warnings become ``Warning: 299`` headers, and a webhook that fails or does not answer in
``timeoutSeconds`` is skipped under ``failurePolicy: Ignore``.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trustme
import yaml

from authenticator.demo.apiserver import status_body
from tests.support.admission import review as admission_review

CRD_GROUP = "iamauthenticator.k8s.aws"
CRD_VERSION = "v1alpha1"
CRD_PLURAL = "iamidentitymappings"
TOKEN = "stand-in-token"

# collection key: (plural, namespace or None)
Key = tuple[str, str | None]


@dataclass
class AdmissionHook:
    """One webhook of a ValidatingWebhookConfiguration, as the stand-in calls it."""

    name: str
    url: str
    ca_pem: bytes
    failure_policy: str = "Fail"
    timeout: float = 10.0
    operations: tuple[str, ...] = ("CREATE", "UPDATE", "DELETE")

    @classmethod
    def from_configuration(cls, configuration: dict[str, Any]) -> AdmissionHook:
        (hook,) = configuration["webhooks"]
        (rule,) = hook["rules"]
        return cls(
            name=hook["name"],
            url=hook["clientConfig"]["url"],
            ca_pem=base64.b64decode(hook["clientConfig"]["caBundle"]),
            failure_policy=hook.get("failurePolicy", "Fail"),
            timeout=float(hook.get("timeoutSeconds", 10)),
            operations=tuple(rule["operations"]),
        )


@dataclass
class _Admitted:
    """What the webhook said: an error answer for the client (None: go on) and warnings."""

    error: tuple[int, dict[str, Any]] | None
    warnings: list[str]


@dataclass
class _Event:
    rv: int
    key: Key
    type: str
    obj: dict[str, Any]


class KubeApiServer:
    def __init__(self, *, history: int = 1000) -> None:
        self._ca = trustme.CA()
        self._cert = self._ca.issue_cert("127.0.0.1", "localhost")
        self._cond = threading.Condition()
        self._rv = 100
        self._objects: dict[Key, dict[str, dict[str, Any]]] = {}
        self._events: list[_Event] = []
        self._compacted = 0  # watches from a resourceVersion below this get 410
        self._history = history
        self._drop_generation = 0
        self._conflicts = 0
        self._hold_watches = False
        self._closing = False
        self.token = TOKEN  # the bearer token accepted; change it to make every request 401
        self.watch_timeout_override: float | None = None  # seconds every watch lasts, whatever was asked
        self.gone_as_http_status = False  # False: 200 + ERROR event (as kube-apiserver); True: HTTP 410
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.active_watches = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: Path | None = None
        self.admission: AdmissionHook | None = None
        # userInfo of the requests (every client authenticates with the one bearer token)
        self.user_info: dict[str, Any] = {"username": "tester", "groups": ["system:masters", "system:authenticated"]}
        self.admission_calls: list[dict[str, Any]] = []  # AdmissionReviews sent
        self.admission_failures: list[str] = []  # calls that failed (then failurePolicy decided)

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> KubeApiServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._cert.configure_cert(context)
        standin = self

        class Handler(_Handler):
            server_ref = standin

        server = _QuietServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def write_ca(self, path: Path) -> Path:
        self._ca.cert_pem.write_to_path(str(path))
        return path

    def write_kubeconfig(self, directory: Path, *, token: str = TOKEN) -> Path:
        ca = self.write_ca(directory / "standin-ca.pem")
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "standin", "cluster": {"server": self.url, "certificate-authority": str(ca)}}],
            "users": [{"name": "tester", "user": {"token": token}}],
            "contexts": [{"name": "standin", "context": {"cluster": "standin", "user": "tester"}}],
            "current-context": "standin",
        }
        path = directory / "kubeconfig"
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)
        return path

    def register_admission(self, configuration: dict[str, Any]) -> AdmissionHook:
        """Send aws-auth writes to the webhook of ``configuration`` (a ValidatingWebhookConfiguration)."""
        self.admission = AdmissionHook.from_configuration(configuration)
        return self.admission

    # -- state, as a test sees it ---------------------------------------------------------

    @property
    def resource_version(self) -> int:
        with self._cond:
            return self._rv

    def get(self, key: Key, name: str) -> dict[str, Any] | None:
        with self._cond:
            obj = self._objects.get(key, {}).get(name)
            return copy.deepcopy(obj) if obj is not None else None

    def apply(self, key: Key, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create or replace an object (fields other than metadata come from ``body``)."""
        with self._cond:
            existing = self._objects.get(key, {}).get(name)
            obj = self._build(key, name, body, existing)
            return self._store(key, name, obj, "MODIFIED" if existing else "ADDED")

    def delete(self, key: Key, name: str) -> bool:
        with self._cond:
            existing = self._objects.get(key, {}).pop(name, None)
            if existing is None:
                return False
            self._rv += 1
            gone = copy.deepcopy(existing)
            gone["metadata"]["resourceVersion"] = str(self._rv)
            self._record(key, "DELETED", gone)
            return True

    def compact(self) -> None:
        """Forget the event history: a watch from any resourceVersion we handed out gets 410."""
        with self._cond:
            self._rv += 1
            self._compacted = self._rv
            self._events.clear()
            self._cond.notify_all()

    def drop_watches(self) -> None:
        """Cut every open watch mid-stream (half a chunk, then the socket closes)."""
        with self._cond:
            self._drop_generation += 1
            self._cond.notify_all()

    def hold_watches(self, hold: bool = True) -> None:
        """While held, a new watch request waits before answering (the client sees a slow server)."""
        with self._cond:
            self._hold_watches = hold
            self._cond.notify_all()

    def inject_conflicts(self, count: int) -> None:
        """The next ``count`` PUTs answer 409 Conflict whatever their resourceVersion."""
        with self._cond:
            self._conflicts = count

    def count(self, method: str, path_suffix: str = "", *, watch: bool | None = None) -> int:
        with self._cond:
            return sum(
                1
                for m, p, q in self.requests
                if m == method
                and p.endswith(path_suffix)
                and (watch is None or (q.get("watch") in ("true", "1", "True")) == watch)
            )

    def wait_for_watches(self, count: int, timeout: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.active_watches >= count, timeout)

    # -- admission ------------------------------------------------------------------------

    def admit(
        self,
        operation: str,
        key: Key,
        name: str,
        new: dict[str, Any] | None,
        old: dict[str, Any] | None,
        *,
        dry_run: bool,
    ) -> _Admitted:
        """Ask the registered webhook, as kube-apiserver would, when its rules, namespaceSelector
        (kube-system) and matchConditions (the name aws-auth) select this write."""
        hook = self.admission
        selected = key == ("configmaps", "kube-system") and name == "aws-auth"
        if hook is None or not selected or operation not in hook.operations:
            return _Admitted(None, [])
        review = admission_review(
            operation,
            new,
            old,
            user=copy.deepcopy(self.user_info),
            dry_run=dry_run,
            name=name,
            namespace=key[1],
        )
        self.admission_calls.append(review)
        try:
            response = self._call(hook, review)
        except (OSError, ValueError, KeyError, TypeError) as exc:  # no usable answer
            self.admission_failures.append(f"{type(exc).__name__}: {exc}")
            if hook.failure_policy == "Ignore":
                return _Admitted(None, [])
            message = f'Internal error occurred: failed calling webhook "{hook.name}": {exc}'
            return _Admitted((500, status_body(500, "InternalError", message)), [])
        warnings = [str(w) for w in response.get("warnings") or []]
        if response["allowed"] is True:
            return _Admitted(None, warnings)
        status = response.get("status") or {}
        code = int(status.get("code") or 400)
        message = f'admission webhook "{hook.name}" denied the request'
        if status.get("message"):
            message += f": {status['message']}"
        return _Admitted((code, status_body(code, str(status.get("reason") or ""), message)), warnings)

    @staticmethod
    def _call(hook: AdmissionHook, review: dict[str, Any]) -> dict[str, Any]:
        context = ssl.create_default_context(cadata=hook.ca_pem.decode("ascii"))
        request = urllib.request.Request(
            hook.url,
            data=json.dumps(review).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=hook.timeout, context=context) as answer:
                doc = json.loads(answer.read())
        except urllib.error.HTTPError as exc:  # any status but 200 is a failed call
            raise OSError(f"the webhook answered {exc.code}") from None
        response: dict[str, Any] = doc["response"]
        if doc.get("kind") != "AdmissionReview" or response["uid"] != review["request"]["uid"]:
            raise ValueError("not the AdmissionReview answer to this request")
        return response

    # -- internals ------------------------------------------------------------------------

    def _build(self, key: Key, name: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        plural, namespace = key
        obj = copy.deepcopy(body)
        meta = dict(obj.get("metadata") or {})
        meta["name"] = name
        if namespace is not None:
            meta["namespace"] = namespace
        meta["uid"] = (existing or {}).get("metadata", {}).get("uid") or str(uuid.uuid4())
        meta.setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
        obj["metadata"] = meta
        if plural == "configmaps":
            obj["apiVersion"], obj["kind"] = "v1", "ConfigMap"
        else:
            obj["apiVersion"], obj["kind"] = f"{CRD_GROUP}/{CRD_VERSION}", "IAMIdentityMapping"
        return obj

    def _store(self, key: Key, name: str, obj: dict[str, Any], event_type: str) -> dict[str, Any]:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        self._objects.setdefault(key, {})[name] = obj
        self._record(key, event_type, copy.deepcopy(obj))
        return copy.deepcopy(obj)

    def _record(self, key: Key, event_type: str, obj: dict[str, Any]) -> None:
        self._events.append(_Event(self._rv, key, event_type, obj))
        if len(self._events) > self._history:
            dropped = self._events.pop(0)
            self._compacted = max(self._compacted, dropped.rv + 1)
        self._cond.notify_all()

    def _list(self, key: Key, name: str | None) -> dict[str, Any]:
        with self._cond:
            items = [
                copy.deepcopy(o) for n, o in sorted(self._objects.get(key, {}).items()) if name is None or n == name
            ]
            rv = self._rv
        for item in items:  # as kube-apiserver: list items carry no kind/apiVersion
            item.pop("kind", None)
            item.pop("apiVersion", None)
        kind = "ConfigMapList" if key[0] == "configmaps" else "IAMIdentityMappingList"
        api_version = "v1" if key[0] == "configmaps" else f"{CRD_GROUP}/{CRD_VERSION}"
        return {"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": str(rv)}, "items": items}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up mid-request (a stopped watcher) are expected here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_ref: KubeApiServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- routing --------------------------------------------------------------------------

    def _route(self) -> tuple[Key, str | None, dict[str, str]] | None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        segments = [s for s in parts.path.split("/") if s]
        with self.server_ref._cond:
            self.server_ref.requests.append((self.command, parts.path, query))
        if segments[:3] == ["api", "v1", "namespaces"] and len(segments) in (5, 6) and segments[4] == "configmaps":
            return ("configmaps", segments[3]), (segments[5] if len(segments) == 6 else None), query
        if segments[:3] == ["apis", CRD_GROUP, CRD_VERSION] and len(segments) in (4, 5) and segments[3] == CRD_PLURAL:
            return (CRD_PLURAL, None), (segments[4] if len(segments) == 5 else None), query
        return None

    def _authorized(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {self.server_ref.token}":
            return True
        self._send_json(401, status_body(401, "Unauthorized", "Unauthorized"))
        return False

    def _body(self) -> dict[str, Any] | None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            body = None
        return body if isinstance(body, dict) else None

    def _send_json(self, code: int, body: dict[str, Any], warnings: list[str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        for warning in warnings or ():  # as kube-apiserver passes on admission warnings (UTF-8 bytes)
            quoted = warning.replace("\\", "\\\\").replace('"', '\\"')
            self.send_header("Warning", f'299 - "{quoted}"'.encode().decode("latin-1"))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _not_found(self) -> None:
        self._send_json(404, status_body(404, "NotFound", "the server could not find the requested resource"))

    def _discovery(self) -> bool:
        """The legacy discovery documents kubectl reads to map a kind to its resource."""
        path = urlsplit(self.path).path.rstrip("/")
        if path == "/api":
            self._send_json(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})
        elif path == "/api/v1":
            resources = [
                {
                    "name": "configmaps",
                    "singularName": "configmap",
                    "namespaced": True,
                    "kind": "ConfigMap",
                    "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
                    "shortNames": ["cm"],
                }
            ]
            self._send_json(200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": resources})
        elif path == "/apis":
            self._send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
        else:
            return False
        return True

    def do_GET(self) -> None:
        route = self._route()
        if not self._authorized():
            return
        if route is None and self._discovery():
            return
        if route is None:
            return self._not_found()
        key, name, query = route
        if name is not None:
            obj = self.server_ref.get(key, name)
            if obj is None:
                return self._missing(key, name)
            return self._send_json(200, obj)
        selected = _selected_name(query.get("fieldSelector"))
        if query.get("watch") in ("true", "1", "True"):
            return self._watch(key, selected, query)
        self._send_json(200, self.server_ref._list(key, selected))

    def _write(self, *, named: bool) -> tuple[Key, str | None, dict[str, Any], bool] | None:
        """(key, name, body, dry run) of an authorized POST (``named=False``), PUT or PATCH (``named=True``);
        None once the error answer is sent. The body is read before any 404, to keep the
        connection usable."""
        route = self._route()
        if not self._authorized():
            return None
        body = self._body()
        if route is None or (route[1] is not None) != named:
            self._not_found()
            return None
        if body is None:
            self._send_json(400, status_body(400, "BadRequest", "body is not a JSON object"))
            return None
        return route[0], route[1], body, route[2].get("dryRun") == "All"

    def _missing(self, key: Key, name: str) -> None:
        self._send_json(404, status_body(404, "NotFound", f'{key[0]} "{name}" not found'))

    def do_POST(self) -> None:
        write = self._write(named=False)
        if write is None:
            return
        key, _, body, dry_run = write
        name = (body.get("metadata") or {}).get("name")
        if not name:
            return self._send_json(422, status_body(422, "Invalid", "metadata.name is required"))
        standin = self.server_ref
        exists = status_body(409, "AlreadyExists", f'{key[0]} "{name}" already exists')
        with standin._cond:
            if name in standin._objects.get(key, {}):
                return self._send_json(409, exists)
            obj = standin._build(key, name, body, None)
        admitted = standin.admit("CREATE", key, name, obj, None, dry_run=dry_run)  # not under the lock
        if admitted.error is not None:
            return self._send_json(*admitted.error, warnings=admitted.warnings)
        if dry_run:
            return self._send_json(201, obj, warnings=admitted.warnings)
        with standin._cond:
            if name in standin._objects.get(key, {}):
                return self._send_json(409, exists)
            obj = standin._store(key, name, obj, "ADDED")
        self._send_json(201, obj, warnings=admitted.warnings)

    def do_PUT(self) -> None:
        write = self._write(named=True)
        if write is None:
            return
        key, name, body, dry_run = write
        assert name is not None  # named=True
        standin = self.server_ref
        conflict = status_body(
            409, "Conflict", "Operation cannot be fulfilled: the object has been modified; please apply your changes"
        )
        with standin._cond:
            existing = standin._objects.get(key, {}).get(name)
            if existing is None:
                return self._missing(key, name)
            sent_rv = (body.get("metadata") or {}).get("resourceVersion")
            if standin._conflicts > 0:
                standin._conflicts -= 1
                return self._send_json(409, conflict)
            if sent_rv and sent_rv != existing["metadata"]["resourceVersion"]:
                return self._send_json(409, conflict)
            existing = copy.deepcopy(existing)
            obj = standin._build(key, name, body, existing)
        self._update(key, name, obj, existing, dry_run)

    def do_PATCH(self) -> None:
        """A JSON merge patch (also what kubectl apply's strategic merge patch amounts to for a ConfigMap)."""
        write = self._write(named=True)
        if write is None:
            return
        key, name, patch, dry_run = write
        assert name is not None  # named=True
        standin = self.server_ref
        with standin._cond:
            existing = copy.deepcopy(standin._objects.get(key, {}).get(name))
        if existing is None:
            return self._missing(key, name)
        obj = standin._build(key, name, _merge_patch(copy.deepcopy(existing), patch), existing)
        self._update(key, name, obj, existing, dry_run)

    def _update(self, key: Key, name: str, obj: dict[str, Any], existing: dict[str, Any], dry_run: bool) -> None:
        standin = self.server_ref
        admitted = standin.admit("UPDATE", key, name, obj, existing, dry_run=dry_run)
        if admitted.error is not None:
            return self._send_json(*admitted.error, warnings=admitted.warnings)
        if dry_run:
            return self._send_json(200, obj, warnings=admitted.warnings)
        with standin._cond:
            stored = standin._store(key, name, obj, "MODIFIED")
        self._send_json(200, stored, warnings=admitted.warnings)

    def do_DELETE(self) -> None:
        route = self._route()
        self._body()  # kubectl sends DeleteOptions: read them, or they would start the next request
        if not self._authorized():
            return
        if route is None:
            return self._not_found()
        key, name, query = route
        if name is None:
            return self._not_found()
        standin = self.server_ref
        existing = standin.get(key, name)
        if existing is None:
            return self._missing(key, name)
        dry_run = query.get("dryRun") == "All"
        admitted = standin.admit("DELETE", key, name, None, existing, dry_run=dry_run)
        if admitted.error is not None:
            return self._send_json(*admitted.error, warnings=admitted.warnings)
        if not dry_run and not standin.delete(key, name):
            return self._missing(key, name)
        self._send_json(200, status_body(200, "", "deleted") | {"status": "Success"}, warnings=admitted.warnings)

    # -- watch ----------------------------------------------------------------------------

    def _watch(self, key: Key, name: str | None, query: dict[str, str]) -> None:
        standin = self.server_ref
        timeout = float(query.get("timeoutSeconds") or 1800)
        if standin.watch_timeout_override is not None:
            timeout = standin.watch_timeout_override
        deadline = time.monotonic() + timeout
        rv_text = query.get("resourceVersion") or ""
        with standin._cond:
            standin._cond.wait_for(lambda: not standin._hold_watches or standin._closing, timeout)
            generation = standin._drop_generation
            since = int(rv_text) if rv_text.isdigit() else None
            too_old = since is not None and since < standin._compacted
            if too_old and standin.gone_as_http_status:
                gone = status_body(410, "Expired", f"too old resource version: {since} ({standin._compacted})")
                self._send_json(410, gone)
                return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if too_old:
            gone = status_body(410, "Expired", f"too old resource version: {since} ({standin._compacted})")
            self._chunk(json.dumps({"type": "ERROR", "object": gone}).encode() + b"\n")
            self._end()
            return
        with standin._cond:
            standin.active_watches += 1
            standin._cond.notify_all()
        try:
            if since is None:
                # No resourceVersion: synthetic ADDED events for the current state, then changes.
                listing = standin._list(key, name)
                for item in listing["items"]:
                    obj = standin.get(key, item["metadata"]["name"])
                    if obj is not None:
                        self._chunk(json.dumps({"type": "ADDED", "object": obj}).encode() + b"\n")
                since = int(listing["metadata"]["resourceVersion"])
            for event in self._events(key, name, since, deadline, generation):
                if event is None:  # dropped
                    self._chunk_partial(b'{"type":"MODIFIED","object":{"kind":')
                    return
                self._chunk(json.dumps({"type": event.type, "object": event.obj}).encode() + b"\n")
            self._end()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True
        finally:
            with standin._cond:
                standin.active_watches -= 1

    def _events(
        self, key: Key, name: str | None, since: int, deadline: float, generation: int
    ) -> Iterator[_Event | None]:
        standin = self.server_ref
        while True:
            with standin._cond:
                pending = [
                    e
                    for e in standin._events
                    if e.rv > since and e.key == key and (name is None or e.obj["metadata"]["name"] == name)
                ]
                if not pending:
                    remaining = deadline - time.monotonic()
                    if standin._closing or remaining <= 0:
                        return
                    if standin._drop_generation != generation:
                        yield None
                        return
                    standin._cond.wait(min(remaining, 1.0))
                    continue
            for event in pending:
                since = event.rv
                yield event
            with standin._cond:
                if standin._drop_generation != generation:
                    yield None
                    return

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _chunk_partial(self, data: bytes) -> None:
        # A chunk that announces more bytes than it sends, then the connection dies.
        self.wfile.write(b"%x\r\n%s" % (len(data) + 50, data))
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, ``null`` removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


def _selected_name(selector: str | None) -> str | None:
    if not selector:
        return None
    for term in selector.split(","):
        field, _, value = term.partition("=")
        if field.strip() == "metadata.name":
            return value.strip().lstrip("=")
    return None


CONFIGMAPS_KUBE_SYSTEM: Key = ("configmaps", "kube-system")
IAM_IDENTITY_MAPPINGS: Key = (CRD_PLURAL, None)
