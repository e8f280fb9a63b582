"""A local EKS API stand-in over HTTP: access entries and the authentication mode, moto for the rest.

moto has no access-entry API (docs/testing.md), so this serves it,
on 127.0.0.1 port 0, threaded, for a real botocore EKS client reached with ``AWS_ENDPOINT_URL_EKS``
(or ``endpoint_url``). Design: one WSGI app in front of moto's own EKS app (``create_backend_app``,
in this process):

- every request is matched to an operation of botocore's EKS service model (method + request URI
  template, on the raw, still-encoded path: principal ARNs arrive with ``%2F``), its parameters are
  read back from the URI, query and JSON body as the model places them, and validated against the
  operation's input shape (botocore's ``ParamValidator``): a request the model does not allow is
  400 ``InvalidParameterException`` and is counted in ``model_errors``; the answers served here are
  checked against the output shape the same way (a mismatch is a 500 and a ``model_errors`` line);
- CreateAccessEntry, DescribeAccessEntry, ListAccessEntries, UpdateAccessEntry, DeleteAccessEntry,
  AssociateAccessPolicy, DisassociateAccessPolicy and ListAssociatedAccessPolicies are served here;
  DescribeCluster is moto's answer with ``accessConfig`` added; UpdateClusterConfig with
  ``accessConfig`` is served here (the mode moves one step at a time, one way: CONFIG_MAP →
  API_AND_CONFIG_MAP → API), without it moto's; CreateCluster is moto's, its
  ``accessConfig.authenticationMode`` kept here (default CONFIG_MAP, as the API's);
- everything else (clusters, node groups, Fargate profiles) is moto's EKS, forwarded unchanged.

The rules of the API it enforces (docs/migration.md, "The access-entry API"):

- access-entry operations need the mode to have left CONFIG_MAP (``InvalidRequestException``);
- principal: an IAM user or role ARN of the cluster's partition (no STS sessions);
- STANDARD username: no ``system:``, ``eks:``, ``aws:``, ``amazon:``, ``iam:`` prefix; ``{{SessionName}}``
  and ``{{SessionNameRaw}}`` need a colon before them; any other ``{{...}}`` placeholder is refused
  (none is documented for access entries); no ``system:`` group (all ``InvalidParameterException``);
- non-STANDARD types (EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, HYBRID_LINUX, EC2): a role of the
  cluster's account, no username, no groups, no access policies; EKS fills in the node username
  and groups itself; the type cannot change (UpdateAccessEntry has no type, and a node entry's
  username and groups cannot be set);
- a second CreateAccessEntry for a principal: 409 ``ResourceInUseException`` (the same
  ``clientRequestToken`` is a retry and answers the entry, as EKS's idempotency token does);
- unknown cluster, entry or policy association: 404 ``ResourceNotFoundException``;
- access policies: ``arn:<partition>:eks::aws:cluster-access-policy/<Name>``, scope ``cluster``
  (no namespaces) or ``namespace`` (at least one); associating a policy again replaces its scope;
- when the mode leaves CONFIG_MAP, and for node groups / Fargate profiles created afterwards,
  the roles of managed node groups (EC2_LINUX, EC2_WINDOWS for Windows AMIs) and Fargate
  profiles (FARGATE_LINUX) get entries, as EKS makes them.

Not modelled: the cluster creator's bootstrap entry, the asynchronous life of an update (a mode
change takes effect at once; the answer says ``InProgress``), IAM checks of the principal.

Every request is recorded (``requests``: operation, method, raw path, the parameters read,
status, error code), so a test can assert what a client sent. moto's state is process-global:
``reset()`` forgets moto's EKS state and this stand-in's (not moto's IAM or STS).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

import botocore.loaders
import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StringShape, StructureShape
from botocore.validate import ParamValidator

__all__ = [
    "ACCOUNT",
    "ADMIN_POLICY",
    "MODES",
    "NODE_TYPES",
    "VIEW_POLICY",
    "EksStandIn",
    "RecordedRequest",
    "shape_problems",
]

ACCOUNT = "123456789012"  # moto's default account: clusters created through the stand-in live there
ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
VIEW_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")
NODE_TYPES = ("EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX", "EC2")
ENTRY_TYPES = ("STANDARD", *NODE_TYPES)
RESERVED_PREFIXES = ("system:", "eks:", "aws:", "amazon:", "iam:")
# What EKS shows for the entries it fills in itself.
_NODE_IDENTITY = {
    "EC2_LINUX": ("system:node:{{EC2PrivateDNSName}}", ["system:nodes"]),
    "EC2_WINDOWS": ("system:node:{{EC2PrivateDNSName}}", ["system:nodes", "eks:kube-proxy-windows"]),
    "FARGATE_LINUX": ("system:node:{{SessionName}}", ["system:node-proxier", "system:nodes"]),
    "HYBRID_LINUX": ("system:node:{{SessionName}}", ["system:nodes"]),
    "EC2": ("system:node:{{EC2PrivateDNSName}}", []),
}
_PRINCIPAL_RE = re.compile(r"^arn:([a-z-]+):iam::([0-9]{12}):(user|role)/(.+)$")
_POLICY_RE = re.compile(r"^arn:([a-z-]+):eks::aws:cluster-access-policy/[A-Za-z0-9]+$")
_PLACEHOLDER_RE = re.compile(r"\{\{([^}]*)\}\}")
_SESSION_PLACEHOLDERS = ("SessionName", "SessionNameRaw")
_NOT_CONFIG_MAP = (
    "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation."
)

_SERVED_HERE = frozenset(
    {
        "CreateAccessEntry",
        "DescribeAccessEntry",
        "ListAccessEntries",
        "UpdateAccessEntry",
        "DeleteAccessEntry",
        "AssociateAccessPolicy",
        "DisassociateAccessPolicy",
        "ListAssociatedAccessPolicies",
    }
)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def service_model() -> ServiceModel:
    """botocore's EKS service model (the one the client uses)."""
    loader = botocore.loaders.Loader()
    return ServiceModel(loader.load_service_model("eks", "service-2"), service_name="eks")


class ApiError(Exception):
    """An EKS error answer: botocore raises ClientError with this code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidParameterException", message)


def _not_found(message: str) -> ApiError:
    return ApiError(404, "ResourceNotFoundException", message)


@dataclass(frozen=True)
class RecordedRequest:
    operation: str | None  # None: no operation of the model has this method and path
    method: str
    path: str  # raw, as sent (percent-encoding kept)
    params: dict[str, Any]  # the operation's parameters, by member name, as read back
    status: int
    error_code: str | None


# -- routing by the model -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Route:
    operation: OperationModel
    method: str
    pattern: re.Pattern[str]


def _routes(model: ServiceModel) -> list[_Route]:
    routes = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        uri = operation.http["requestUri"].split("?", 1)[0]
        regex = ""
        for part in re.split(r"(\{[^}]+\})", uri):
            if part.startswith("{"):
                label = part[1:-1]
                greedy = label.endswith("+")
                label = label.rstrip("+")
                regex += f"(?P<{label}>{'.+' if greedy else '[^/]+'})"
            else:
                regex += re.escape(part)
        routes.append(_Route(operation, operation.http["method"], re.compile(regex)))
    return routes


def _scalar(shape: Shape, text: str) -> Any:
    if shape.type_name in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return text  # left for the validator to report
    if shape.type_name == "boolean":
        return text.lower() == "true"
    return text


def _read_params(operation: OperationModel, labels: dict[str, str], query: str, body: bytes) -> dict[str, Any]:
    """The operation's parameters read back from where the model puts them."""
    shape = operation.input_shape
    if shape is None:
        return {}
    values = parse_qs(query, keep_blank_values=True)
    document: dict[str, Any] = {}
    if body.strip():
        try:
            loaded = json.loads(body)
        except ValueError as err:
            raise _invalid(f"the request body is not JSON: {err}") from None
        if not isinstance(loaded, dict):
            raise _invalid("the request body is not a JSON object")
        document = loaded
    params: dict[str, Any] = {}
    body_names: dict[str, str] = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri" and wire in labels:
            params[name] = _scalar(member, unquote(labels[wire]))
        elif location == "querystring" and wire in values:
            found = values[wire]
            if member.type_name == "list":
                params[name] = found
            else:
                params[name] = _scalar(member, found[0])
        elif location is None:
            body_names[wire] = name
    for key, value in document.items():
        params[body_names.get(key, key)] = value  # an unknown key stays, for the validator
    return params


# -- the stand-in's own state -------------------------------------------------------------------


@dataclass
class _Entry:
    document: dict[str, Any]
    token: str | None
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class _ClusterState:
    mode: str = "CONFIG_MAP"
    entries: dict[str, _Entry] = field(default_factory=dict)


@dataclass(frozen=True)
class _Cluster:
    name: str
    arn: str

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1]

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]


def _epoch(when: datetime) -> float:
    return when.timestamp()


def _now() -> datetime:
    return datetime.now(UTC)


def _check_username(username: str) -> None:
    for prefix in RESERVED_PREFIXES:
        if username.startswith(prefix):
            raise _invalid(f"username {username!r} must not start with {prefix!r}: the prefix is reserved")
    for match in _PLACEHOLDER_RE.finditer(username):
        placeholder = match.group(1)
        if placeholder not in _SESSION_PLACEHOLDERS:
            raise _invalid(f"username {username!r}: {{{{{placeholder}}}}} is not supported in access entries")
        if ":" not in username[: match.start()]:
            raise _invalid(f"username {username!r}: {{{{{placeholder}}}}} must have a colon somewhere before it")


def _check_groups(groups: list[str]) -> None:
    for group in groups:
        if group.startswith("system:"):
            raise _invalid(f"kubernetesGroups: group {group!r} must not start with 'system:'")


def _check_principal(cluster: _Cluster, principal: str, entry_type: str) -> None:
    match = _PRINCIPAL_RE.fullmatch(principal)
    if match is None:
        raise _invalid(f"principalArn {principal!r} is not the ARN of an IAM user or role")
    partition, account, kind, _ = match.groups()
    if partition != cluster.partition:
        raise _invalid(f"principalArn {principal!r} is not in the cluster's partition {cluster.partition}")
    if entry_type != "STANDARD":
        if kind != "role":
            raise _invalid(f"principalArn {principal!r}: an access entry of type {entry_type} needs an IAM role")
        if account != cluster.account:
            raise _invalid(
                f"principalArn {principal!r}: an access entry of type {entry_type} needs a role of the "
                f"cluster's account {cluster.account}"
            )


def _default_username(principal: str) -> str:
    match = _PRINCIPAL_RE.fullmatch(principal)
    assert match is not None  # checked by _check_principal
    partition, account, kind, rest = match.groups()
    if kind == "user":
        return principal
    return f"arn:{partition}:sts::{account}:assumed-role/{rest.rsplit('/', 1)[-1]}/{{{{SessionName}}}}"


# -- the app ------------------------------------------------------------------------------------


class EksStandIn:
    """The EKS stand-in: ``with EksStandIn() as eks: eks.url``; ``eks.client()`` is a botocore client."""

    def __init__(self, *, region: str = "us-east-1") -> None:
        from moto.moto_server.werkzeug_app import create_backend_app

        self.region = region
        self.model = service_model()
        self._routes = _routes(self.model)
        self._validator = ParamValidator()
        self._moto: WsgiApp = create_backend_app("eks")
        self._lock = threading.RLock()
        self._clusters: dict[str, _ClusterState] = {}
        self.requests: list[RecordedRequest] = []
        self.model_errors: list[str] = []
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> EksStandIn:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class _Quiet(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        self._server = make_server("127.0.0.1", 0, self, threaded=True, request_handler=_Quiet)
        self.url = f"http://127.0.0.1:{self._server.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="eks-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> EksStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every cluster, entry and recorded request: moto's EKS state and this stand-in's.
        moto's other services (IAM, for an ``StsPeer`` in the same process) are left alone."""
        from moto.eks.models import eks_backends

        # Per account: BackendDict.reset() is a class method that resets every service.
        for account_backends in list(eks_backends.values()):
            account_backends.reset()
        with self._lock:
            self._clusters.clear()
            self.requests.clear()
            self.model_errors.clear()

    # -- helpers for tests -----------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """What a child process needs to reach this stand-in through botocore."""
        return {
            "AWS_ENDPOINT_URL_EKS": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": self.region,
        }

    def client(self, **config: Any) -> Any:
        """A botocore EKS client for this stand-in (no retries)."""
        from botocore.config import Config

        session = botocore.session.Session()
        return session.create_client(
            "eks",
            region_name=self.region,
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}, **config),
        )

    def create_cluster(
        self,
        name: str = "prod",
        mode: str = "API_AND_CONFIG_MAP",
        *,
        node_roles: Iterable[str] = (),
        fargate_roles: Iterable[str] = (),
        windows_node_roles: Iterable[str] = (),
    ) -> str:
        """A cluster in ``mode`` with one managed node group per node role and one Fargate profile
        per pod execution role, made through the API as a user would; its ARN."""
        eks = self.client()
        try:
            arn: str = eks.create_cluster(
                name=name,
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster",
                resourcesVpcConfig={"subnetIds": ["subnet-1"]},
                accessConfig={"authenticationMode": mode},
            )["cluster"]["arn"]
            groups = [(role, "AL2023_x86_64_STANDARD") for role in node_roles]
            groups += [(role, "WINDOWS_CORE_2022_x86_64") for role in windows_node_roles]
            for number, (role, ami) in enumerate(groups):
                eks.create_nodegroup(
                    clusterName=name, nodegroupName=f"nodes-{number}", subnets=["subnet-1"], nodeRole=role, amiType=ami
                )
            for number, role in enumerate(fargate_roles):
                eks.create_fargate_profile(
                    clusterName=name,
                    fargateProfileName=f"fargate-{number}",
                    podExecutionRoleArn=role,
                    selectors=[{"namespace": f"apps-{number}"}],
                )
        finally:
            eks.close()
        return arn

    def calls(self, operation: str) -> list[dict[str, Any]]:
        """The parameters of every request of ``operation`` received so far, in order."""
        with self._lock:
            return [r.params for r in self.requests if r.operation == operation]

    def operations(self) -> list[str | None]:
        with self._lock:
            return [r.operation for r in self.requests]

    # -- WSGI ------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
        path, _, query = raw.partition("?")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        operation, labels = self._match(method, path)
        params: dict[str, Any] = {}
        try:
            if operation is None:
                raise ApiError(404, "UnknownOperationException", f"no EKS operation is {method} {path}")
            params = _read_params(operation, labels, query, body)
            input_shape = operation.input_shape
            assert input_shape is not None  # every EKS operation takes an input structure
            report = self._validator.validate(params, input_shape)
            if report.has_errors():
                message = report.generate_report()
                with self._lock:
                    self.model_errors.append(f"{operation.name}: {message}")
                raise _invalid(f"the request does not match the EKS model: {message}")
            status, headers, payload = self._dispatch(operation.name, params, environ, method, path, query, body)
        except ApiError as err:
            status = err.status
            headers = [("x-amzn-ErrorType", err.code)]
            payload = json.dumps({"message": err.message}).encode()
            self._record(operation, method, path, params, status, err.code)
        else:
            self._record(operation, method, path, params, status, _error_code(status, headers, payload))
        headers = [(k, v) for k, v in headers if k.lower() not in ("content-length", "content-type")]
        headers += [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
        start_response(f"{status} {_REASONS.get(status, 'Status')}", headers)
        return [payload]

    def _record(
        self,
        operation: OperationModel | None,
        method: str,
        path: str,
        params: dict[str, Any],
        status: int,
        code: str | None,
    ) -> None:
        with self._lock:
            self.requests.append(
                RecordedRequest(operation.name if operation else None, method, path, params, status, code)
            )

    def _match(self, method: str, path: str) -> tuple[OperationModel | None, dict[str, str]]:
        for route in self._routes:
            if route.method == method:
                match = route.pattern.fullmatch(path)
                if match:
                    return route.operation, match.groupdict()
        return None, {}

    # -- moto ------------------------------------------------------------------------------------

    def _moto_call(
        self, environ: dict[str, Any], method: str, path: str, query: str = "", body: bytes = b""
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        from werkzeug.test import EnvironBuilder, run_wsgi_app

        headers: dict[str, str] = {
            "Authorization": environ.get("HTTP_AUTHORIZATION", ""),
            "Host": environ.get("HTTP_HOST", ""),
        }
        for key in ("HTTP_X_AMZ_DATE", "HTTP_X_MOTO_ACCOUNT_ID"):
            if key in environ:
                headers[key[5:].replace("_", "-").title()] = environ[key]
        builder = EnvironBuilder(
            path=unquote(path),
            method=method,
            query_string=query,
            headers=list(headers.items()),
            data=body,
            content_type="application/json",
        )
        try:
            app_iter, status, response_headers = run_wsgi_app(self._moto, builder.get_environ())
            payload = b"".join(app_iter)
        finally:
            builder.close()
        return int(status.split()[0]), list(response_headers.items()), payload

    def _moto_json(self, environ: dict[str, Any], path: str) -> dict[str, Any]:
        status, headers, payload = self._moto_call(environ, "GET", path)
        document: dict[str, Any] = json.loads(payload or b"{}")
        if status >= 400:
            code = _error_code(status, headers, payload) or "ServerException"
            raise ApiError(status, code, str(document.get("message") or document.get("Message") or code))
        return document

    def _cluster(self, environ: dict[str, Any], name: str) -> tuple[_Cluster, _ClusterState]:
        """The cluster as moto knows it (404 when it does not), and this stand-in's state of it."""
        try:
            described = self._moto_json(environ, f"/clusters/{_quote(name)}")
        except ApiError as err:
            if err.status == 404:
                raise _not_found(f"No cluster found for name: {name}.") from None
            raise
        cluster = _Cluster(name, described["cluster"]["arn"])
        with self._lock:
            state = self._clusters.setdefault(cluster.arn, _ClusterState())
        return cluster, state

    def _managed_roles(self, environ: dict[str, Any], name: str) -> Iterator[tuple[str, str]]:
        """(role ARN, entry type) of each managed node group and Fargate profile of the cluster."""
        quoted = _quote(name)
        for group in self._moto_json(environ, f"/clusters/{quoted}/node-groups").get("nodegroups", []):
            nodegroup = self._moto_json(environ, f"/clusters/{quoted}/node-groups/{_quote(group)}")["nodegroup"]
            yield nodegroup["nodeRole"], _nodegroup_type(nodegroup)
        for profile in self._moto_json(environ, f"/clusters/{quoted}/fargate-profiles").get("fargateProfileNames", []):
            described = self._moto_json(environ, f"/clusters/{quoted}/fargate-profiles/{_quote(profile)}")
            yield described["fargateProfile"]["podExecutionRoleArn"], "FARGATE_LINUX"

    # -- operations ------------------------------------------------------------------------------

    def _dispatch(
        self,
        name: str,
        params: dict[str, Any],
        environ: dict[str, Any],
        method: str,
        path: str,
        query: str,
        body: bytes,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if name in _SERVED_HERE:
            cluster, state = self._cluster(environ, params["clusterName"])
            if state.mode == "CONFIG_MAP":
                raise ApiError(400, "InvalidRequestException", _NOT_CONFIG_MAP)
            handler = getattr(self, "_op_" + _snake(name))
            with self._lock:
                answer: dict[str, Any] = handler(cluster, state, params)
            return 200, [], self._answer(name, answer)
        if name == "UpdateClusterConfig" and "accessConfig" in params:
            return 200, [], self._answer(name, self._update_mode(environ, params))
        status, headers, payload = self._moto_call(environ, method, path, query, body)
        if status >= 300:
            return status, headers, payload
        if name == "CreateCluster":
            created = json.loads(payload)["cluster"]
            mode = (params.get("accessConfig") or {}).get("authenticationMode", "CONFIG_MAP")
            with self._lock:
                self._clusters[created["arn"]] = _ClusterState(mode=mode)
        elif name == "DescribeCluster":
            document = json.loads(payload)
            with self._lock:
                state = self._clusters.setdefault(document["cluster"]["arn"], _ClusterState())
                document["cluster"]["accessConfig"] = {
                    "bootstrapClusterCreatorAdminPermissions": False,
                    "authenticationMode": state.mode,
                }
            payload = json.dumps(document).encode()
        elif name in ("CreateNodegroup", "CreateFargateProfile"):
            cluster, state = self._cluster(environ, params["clusterName"])
            document = json.loads(payload)
            if name == "CreateNodegroup":
                role, entry_type = document["nodegroup"]["nodeRole"], _nodegroup_type(document["nodegroup"])
            else:
                role, entry_type = document["fargateProfile"]["podExecutionRoleArn"], "FARGATE_LINUX"
            with self._lock:
                if state.mode != "CONFIG_MAP":
                    self._managed_entry(cluster, state, role, entry_type)
        return status, headers, payload

    def _answer(self, name: str, answer: dict[str, Any]) -> bytes:
        """The answer as JSON, checked against the operation's output shape: a member the model
        does not have, or a value of the wrong type, is this stand-in's bug (500)."""
        problems = shape_problems(self.model.operation_model(name).output_shape, answer, name)
        if problems:
            with self._lock:
                self.model_errors.extend(problems)
            raise ApiError(500, "ServerException", "; ".join(problems))
        return json.dumps(answer).encode()

    def _update_mode(self, environ: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        others = sorted(set(params) - {"name", "accessConfig", "clientRequestToken"})
        if others:
            raise _invalid(f"only one type of update can be made per call: accessConfig with {', '.join(others)}")
        wanted = params["accessConfig"].get("authenticationMode")
        cluster, state = self._cluster(environ, params["name"])
        managed = list(self._managed_roles(environ, cluster.name))
        with self._lock:
            current = state.mode
            if wanted not in MODES or MODES.index(wanted) != MODES.index(current) + 1:
                raise _invalid(f"Unsupported authentication mode update from {current} to {wanted}")
            state.mode = wanted
            if current == "CONFIG_MAP":
                for role, entry_type in managed:
                    self._managed_entry(cluster, state, role, entry_type)
        return {
            "update": {
                "id": str(uuid.uuid4()),
                "status": "InProgress",
                "type": "AccessConfigUpdate",
                "params": [{"type": "AuthenticationMode", "value": wanted}],
                "createdAt": _epoch(_now()),
                "errors": [],
            }
        }

    def _managed_entry(self, cluster: _Cluster, state: _ClusterState, role: str, entry_type: str) -> None:
        if role not in state.entries:
            state.entries[role] = self._new_entry(cluster, role, entry_type, None, None, {}, None)

    @staticmethod
    def _new_entry(
        cluster: _Cluster,
        principal: str,
        entry_type: str,
        username: str | None,
        groups: list[str] | None,
        tags: dict[str, str],
        token: str | None,
    ) -> _Entry:
        if entry_type == "STANDARD":
            username = username or _default_username(principal)
            groups = list(groups or [])
        else:
            username, node_groups = _NODE_IDENTITY[entry_type]
            groups = list(node_groups)
        kind_and_name = principal.split(":", 5)[5]
        now = _epoch(_now())
        document = {
            "clusterName": cluster.name,
            "principalArn": principal,
            "kubernetesGroups": groups,
            "accessEntryArn": (
                f"arn:{cluster.partition}:eks:{cluster.region}:{cluster.account}:access-entry/{cluster.name}/"
                f"{kind_and_name.split('/', 1)[0]}/{principal.split(':')[4]}/{kind_and_name.rsplit('/', 1)[-1]}/"
                f"{uuid.uuid4()}"
            ),
            "createdAt": now,
            "modifiedAt": now,
            "tags": dict(tags),
            "username": username,
            "type": entry_type,
        }
        return _Entry(document, token)

    @staticmethod
    def _entry(state: _ClusterState, principal: str) -> _Entry:
        entry = state.entries.get(principal)
        if entry is None:
            raise _not_found(f"The specified principalArn could not be found: {principal}")
        return entry

    def _op_create_access_entry(self, cluster: _Cluster, state: _ClusterState, params: dict[str, Any]) -> Any:
        principal = params["principalArn"]
        entry_type = params.get("type", "STANDARD")
        if entry_type not in ENTRY_TYPES:
            raise _invalid(f"type {entry_type!r} is not one of {', '.join(ENTRY_TYPES)}")
        _check_principal(cluster, principal, entry_type)
        username = params.get("username")
        groups = params.get("kubernetesGroups")
        if entry_type != "STANDARD":
            if username is not None:
                raise _invalid(f"username cannot be set for an access entry of type {entry_type}")
            if groups:
                raise _invalid(f"kubernetesGroups cannot be set for an access entry of type {entry_type}")
        if username is not None:
            _check_username(username)
        _check_groups(groups or [])
        token = params.get("clientRequestToken")
        existing = state.entries.get(principal)
        if existing is not None:
            if token is not None and existing.token == token:
                return {"accessEntry": existing.document}
            raise ApiError(
                409,
                "ResourceInUseException",
                f"The specified access entry resource is already in use on this cluster: {principal}",
            )
        entry = self._new_entry(cluster, principal, entry_type, username, groups, params.get("tags") or {}, token)
        state.entries[principal] = entry
        return {"accessEntry": entry.document}

    def _op_describe_access_entry(self, cluster: _Cluster, state: _ClusterState, params: dict[str, Any]) -> Any:
        return {"accessEntry": self._entry(state, params["principalArn"]).document}

    def _op_list_access_entries(self, cluster: _Cluster, state: _ClusterState, params: dict[str, Any]) -> Any:
        policy = params.get("associatedPolicyArn")
        principals = [p for p, e in state.entries.items() if policy is None or policy in e.policies]
        page, token = _page(principals, params)
        answer: dict[str, Any] = {"accessEntries": page}
        if token:
            answer["nextToken"] = token
        return answer

    def _op_update_access_entry(self, cluster: _Cluster, state: _ClusterState, params: dict[str, Any]) -> Any:
        entry = self._entry(state, params["principalArn"])
        entry_type = entry.document["type"]
        username = params.get("username")
        groups = params.get("kubernetesGroups")
        if entry_type != "STANDARD" and (username is not None or groups is not None):
            raise _invalid(f"username and kubernetesGroups cannot be set for an access entry of type {entry_type}")
        if username is not None:
            _check_username(username)
            entry.document["username"] = username
        if groups is not None:
            _check_groups(groups)
            entry.document["kubernetesGroups"] = list(groups)
        entry.document["modifiedAt"] = _epoch(_now())
        return {"accessEntry": entry.document}

    def _op_delete_access_entry(self, cluster: _Cluster, state: _ClusterState, params: dict[str, Any]) -> Any:
        self._entry(state, params["principalArn"])
        del state.entries[params["principalArn"]]
        return {}

    def _op_associate_access_policy(self, cluster: _Cluster, state: _ClusterState, params: dict[str, Any]) -> Any:
        entry = self._entry(state, params["principalArn"])
        if entry.document["type"] != "STANDARD":
            raise _invalid(
                f"access policies cannot be associated with an access entry of type {entry.document['type']}"
            )
        policy = params["policyArn"]
        match = _POLICY_RE.fullmatch(policy)
        if match is None or match.group(1) != cluster.partition:
            raise _invalid(f"policyArn {policy!r} is not an EKS cluster access policy of partition {cluster.partition}")
        scope = params["accessScope"]
        scope_type = scope.get("type")
        namespaces = list(scope.get("namespaces") or [])
        if scope_type == "cluster" and namespaces:
            raise _invalid("accessScope: namespaces cannot be given with scope type cluster")
        if scope_type == "namespace" and not namespaces:
            raise _invalid("accessScope: scope type namespace needs at least one namespace")
        if scope_type not in ("cluster", "namespace"):
            raise _invalid(f"accessScope: type {scope_type!r} is not cluster or namespace")
        now = _epoch(_now())
        previous = entry.policies.get(policy)
        association = {
            "policyArn": policy,
            "accessScope": {"type": scope_type, "namespaces": namespaces},
            "associatedAt": previous["associatedAt"] if previous else now,
            "modifiedAt": now,
        }
        entry.policies[policy] = association
        return {
            "clusterName": cluster.name,
            "principalArn": params["principalArn"],
            "associatedAccessPolicy": association,
        }

    def _op_disassociate_access_policy(self, cluster: _Cluster, state: _ClusterState, params: dict[str, Any]) -> Any:
        entry = self._entry(state, params["principalArn"])
        if entry.policies.pop(params["policyArn"], None) is None:
            raise _not_found(f"The policy {params['policyArn']} is not associated with {params['principalArn']}")
        return {}

    def _op_list_associated_access_policies(
        self, cluster: _Cluster, state: _ClusterState, params: dict[str, Any]
    ) -> Any:
        entry = self._entry(state, params["principalArn"])
        page, token = _page(list(entry.policies.values()), params)
        answer: dict[str, Any] = {
            "clusterName": cluster.name,
            "principalArn": params["principalArn"],
            "associatedAccessPolicies": page,
        }
        if token:
            answer["nextToken"] = token
        return answer


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "timestamp": (int, float),
    "double": (int, float),
    "float": (int, float),
}


def shape_problems(shape: Shape | None, value: Any, where: str) -> list[str]:
    """Where ``value`` (a JSON answer) does not fit ``shape``: unknown members, wrong types."""
    if shape is None:
        return [] if value in ({}, None) else [f"{where}: the model has no output here"]
    # botocore builds each shape of a structure, list, map or string type as that class.
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return [f"{where}: expected an object"]
        problems = []
        wire_names = {m.serialization.get("name", n): m for n, m in shape.members.items()}
        for key, item in value.items():
            member = wire_names.get(key)
            if member is None:
                problems.append(f"{where}.{key}: not a member of {shape.name}")
            else:
                problems.extend(shape_problems(member, item, f"{where}.{key}"))
        return problems
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        return [p for i, item in enumerate(value) for p in shape_problems(shape.member, item, f"{where}[{i}]")]
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            return [f"{where}: expected a map"]
        return [p for k, item in value.items() for p in shape_problems(shape.value, item, f"{where}[{k}]")]
    expected = _JSON_TYPES.get(kind)
    if expected is not None and (not isinstance(value, expected) or (kind != "boolean" and isinstance(value, bool))):
        return [f"{where}: expected {kind}, got {type(value).__name__}"]
    if isinstance(shape, StringShape) and shape.enum and value not in shape.enum:
        return [f"{where}: {value!r} is not one of {shape.enum}"]
    return []


def _page(items: list[Any], params: dict[str, Any]) -> tuple[list[Any], str | None]:
    limit = params.get("maxResults", 100)
    if not 1 <= limit <= 100:
        raise _invalid("maxResults must be between 1 and 100")
    start = 0
    token = params.get("nextToken")
    if token is not None:
        if not re.fullmatch(r"page-[0-9]+", token):
            raise _invalid("nextToken is not valid")
        start = int(token[5:])
    end = start + limit
    return items[start:end], (f"page-{end}" if end < len(items) else None)


def _nodegroup_type(nodegroup: dict[str, Any]) -> str:
    return "EC2_WINDOWS" if str(nodegroup.get("amiType", "")).startswith("WINDOWS") else "EC2_LINUX"


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _error_code(status: int, headers: list[tuple[str, str]], payload: bytes) -> str | None:
    if status < 400:
        return None
    for key, value in headers:
        if key.lower() == "x-amzn-errortype":
            return value.split(":", 1)[0]
    try:
        document = json.loads(payload)
    except ValueError:
        return None
    if isinstance(document, dict):
        code = document.get("__type") or document.get("code")
        return str(code).rsplit("#", 1)[-1] if code else None
    return None


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 409: "Conflict", 500: "Internal Server Error"}
