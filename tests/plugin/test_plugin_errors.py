"""Every expected failure: exit 1, nothing on stdout, one line on stderr, no traceback."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from authenticator.demo._tls import serving
from tests.support.plugin import base_env, decode_token, env_credentials, run_plugin, write_aws_config
from tests.support.processes import free_port

ROLE = "arn:aws:iam::123456789012:role/eks-admin"

_ACCESS_DENIED = (
    b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
    b"<Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/dev is not authorized to perform: "
    b"sts:AssumeRole on resource: arn:aws:iam::123456789012:role/eks-admin</Message></Error>"
    b"<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"
)


@pytest.fixture
def refusing_sts() -> Iterator[str]:
    """An STS endpoint that refuses every call with AccessDenied (moto cannot be made to refuse)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return None

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(403)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(_ACCESS_DENIED)))
            self.end_headers()
            self.wfile.write(_ACCESS_DENIED)

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def closed_port() -> int:
    # A port just bound and closed: nothing listens there, so a connection is refused at once.
    return free_port()


def _fails(result_args: tuple[str, ...], env: dict[str, str], fragment: str) -> str:
    result = run_plugin(*result_args, env=env)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), result.stderr
    assert result.stderr.startswith("eks-iam-authenticator: error: ")
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr, result.stderr
    return result.stderr


def test_no_cluster_id(home: Path) -> None:
    _fails((), env_credentials(home), "no cluster id")


def test_blank_cluster_id(home: Path) -> None:
    _fails(("-i", "  "), env_credentials(home), "no cluster id")


def test_no_credentials(home: Path) -> None:
    _fails(("-i", "c"), base_env(home), "no AWS credentials found")


def test_no_credentials_with_cache(home: Path) -> None:
    _fails(("-i", "c", "--cache"), base_env(home), "no AWS credentials found")


def test_unknown_profile(home: Path) -> None:
    _fails(("-i", "c", "--profile", "nope"), env_credentials(home), "nope")


def test_assume_role_refused(home: Path, refusing_sts: str) -> None:
    line = _fails(
        ("-i", "c", "-r", ROLE),
        env_credentials(home, AWS_ENDPOINT_URL_STS=refusing_sts),
        # Which role's AssumeRole failed, in our words (STS's message says "sts:AssumeRole on resource").
        f"AssumeRole of {ROLE} failed: AccessDenied",
    )
    assert "not authorized to perform: sts:AssumeRole" in line


def test_assume_role_unreachable(home: Path, closed_port: int) -> None:
    env = env_credentials(home, AWS_ENDPOINT_URL_STS=f"http://127.0.0.1:{closed_port}", AWS_MAX_ATTEMPTS="1")
    # An AssumeRole that never reached STS failed too: the line names it, and the role.
    _fails(("-i", "c", "-r", ROLE), env, f"AssumeRole of {ROLE} failed: Could not connect to the endpoint URL")


def test_profile_assume_role_refused(home: Path, refusing_sts: str) -> None:
    write_aws_config(
        home,
        credentials="[base]\naws_access_key_id = AKIABASEKEYEXAMPLE00\naws_secret_access_key = s\n",
        config=f"[profile admin]\nrole_arn = {ROLE}\nsource_profile = base\n",
    )
    env = base_env(home, AWS_PROFILE="admin", AWS_ENDPOINT_URL_STS=refusing_sts)
    # botocore's own assume-role provider failed: the role is the profile's role_arn.
    _fails(("-i", "c", "--cache"), env, f"AssumeRole of {ROLE} failed: AccessDenied")


def test_chained_profile_refused_names_the_chain(home: Path, refusing_sts: str) -> None:
    inner = "arn:aws:iam::123456789012:role/hop"
    write_aws_config(
        home,
        credentials="[base]\naws_access_key_id = AKIABASEKEYEXAMPLE00\naws_secret_access_key = s\n",
        config=f"[profile admin]\nrole_arn = {ROLE}\nsource_profile = hop\n"
        f"[profile hop]\nrole_arn = {inner}\nsource_profile = base\n",
    )
    env = base_env(home, AWS_ENDPOINT_URL_STS=refusing_sts)
    # The refused call may be any role of the chain (here the first, hop): all are named.
    _fails(
        ("-i", "c", "--profile", "admin"),
        env,
        f"AssumeRole of {ROLE} (or a role it is chained from: {inner}) failed: AccessDenied",
    )


def test_web_identity_refused_names_the_role(home: Path, refusing_sts: str) -> None:
    token_file = home / "web-identity-token"
    token_file.write_text("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
    env = base_env(
        home, AWS_ROLE_ARN=ROLE, AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file), AWS_ENDPOINT_URL_STS=refusing_sts
    )
    _fails(("-i", "c"), env, f"AssumeRoleWithWebIdentity of {ROLE} failed: AccessDenied")


@pytest.mark.parametrize("info", ["{not json\n", "[]\n"])
def test_malformed_exec_info(home: Path, info: str) -> None:
    _fails(("-i", "c"), env_credentials(home, KUBERNETES_EXEC_INFO=info), "KUBERNETES_EXEC_INFO")


def test_external_id_without_role(home: Path) -> None:
    _fails(("-i", "c", "-e", "x"), env_credentials(home), "--external-id needs -r/--role")


def test_invalid_region(home: Path) -> None:
    _fails(("-i", "c", "--region", "us-east-1.evil.com"), env_credentials(home), "invalid region")


def test_dualstack_where_the_partition_has_none(home: Path) -> None:
    env = env_credentials(home, AWS_USE_DUALSTACK_ENDPOINT="true")
    _fails(("-i", "c", "--region", "us-iso-east-1"), env, "no dual-stack")


def test_unsupported_exec_info_version_is_a_warning_not_an_error(home: Path) -> None:
    info = '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1","spec":{}}\n'
    result = run_plugin("-i", "c", env=env_credentials(home, KUBERNETES_EXEC_INFO=info))
    assert result.returncode == 0
    assert result.stderr.count("\n") == 1 and "warning" in result.stderr and "v1alpha1" in result.stderr
    assert '"apiVersion":"client.authentication.k8s.io/v1beta1"' in result.stdout
    assert decode_token(result.stdout.split('"token":"')[1].split('"')[0]).params["Action"] == "GetCallerIdentity"
