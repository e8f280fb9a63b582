"""docs/token.md §5-§6: the STS call, its failure shapes and the identity it yields.

The happy path against a real STS peer (moto) lives in the end-to-end tests; here a double at the
client's one transport seam (``RecordingTransport``) makes the shapes a peer cannot produce on
demand, and a small local HTTPS server proves what actually goes over the wire with
``endpoint_override``. What the transport itself does with a peer's bytes is tests/test_sts_transport.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import httpx
import pytest
import trustme
from prometheus_client import REGISTRY

from authenticator.demo._tls import serving
from authenticator.identity import Identity
from authenticator.partitions import get_partition
from authenticator.sts import THROTTLING_CODES, STSClient
from authenticator.token import PresignedRequest, RejectionKind, TokenRejected, parse_token
from tests.support import tokens as tc
from tests.support.sts import PROXY_ENV_VARS, RecordingTransport, Sent, identity_document, recording_handler

AWS = get_partition("aws")
NOW = tc.FIXED_NOW
CLUSTER = "server-cluster"
STS_URL = "https://sts.us-east-1.amazonaws.com/"
ACCOUNT = "123456789012"


def _request(**kwargs: Any) -> PresignedRequest:
    return parse_token(tc.mint(NOW, **kwargs), now=NOW, partition=AWS)


def _body(arn: str, user_id: str, account: str = ACCOUNT) -> dict[str, Any]:
    return identity_document(arn, user_id, account)


@pytest.fixture(autouse=True)
def _no_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The tests without a double rely on reaching the network directly, as in production.
    for name in PROXY_ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def _call(request: PresignedRequest, **client_kwargs: Any) -> Identity:
    async def go() -> Identity:
        async with STSClient(cluster_id=CLUSTER, **client_kwargs) as client:
            return await client.get_caller_identity(request)

    return asyncio.run(go())


def _rejected(request: PresignedRequest, **client_kwargs: Any) -> TokenRejected:
    with pytest.raises(TokenRejected) as caught:
        _call(request, **client_kwargs)
    return caught.value


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(f"aws_iam_authenticator_{name}_total", labels) or 0.0


def _sts(status: int, body: bytes | dict[str, Any] = b"") -> RecordingTransport:
    return RecordingTransport.always(status, body)


def test_iam_user() -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:user/alice"
    sts = _sts(200, _body(arn, "AIDAEXAMPLEUSERID"))
    before = _metric("sts_responses", ResponseCode="200", StsRegion="us-east-1")
    request = _request()
    identity = _call(request, transport=sts)
    assert identity == Identity(
        arn=arn,
        canonical_arn=arn,
        account_id=ACCOUNT,
        user_id="AIDAEXAMPLEUSERID",
        session_name="",
        access_key_id=tc.ACCESS_KEY,
        sts_endpoint="sts.us-east-1.amazonaws.com",
    )
    (sent,) = sts.sent
    assert sent.headers["x-k8s-aws-id"] == CLUSTER
    assert sent.headers["accept"] == "application/json"
    assert sent.headers["host"] == "sts.us-east-1.amazonaws.com"
    assert sent.url == request.url
    assert _metric("sts_responses", ResponseCode="200", StsRegion="us-east-1") == before + 1
    assert sts.closed  # the client closes its transport


def test_assumed_role() -> None:
    arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/eks-admins/jdoe@example.com"
    sts = _sts(200, _body(arn, "AROAEXAMPLEROLEID:jdoe@example.com"))
    identity = _call(_request(access_key="ASIAEXAMPLEEXAMPLE12", session_token="tok"), transport=sts)
    assert identity.arn == arn
    assert identity.canonical_arn == f"arn:aws:iam::{ACCOUNT}:role/eks-admins"
    assert identity.user_id == "AROAEXAMPLEROLEID"
    assert identity.session_name == "jdoe@example.com"
    assert identity.access_key_id == "ASIAEXAMPLEEXAMPLE12"


def test_federated_user_keeps_whole_user_id() -> None:
    arn = f"arn:aws:sts::{ACCOUNT}:federated-user/bob"
    identity = _call(_request(), transport=_sts(200, _body(arn, f"{ACCOUNT}:bob")))
    assert identity.user_id == f"{ACCOUNT}:bob"
    assert identity.session_name == ""
    assert identity.canonical_arn == arn


def test_root_keeps_the_account_as_user_id() -> None:
    identity = _call(_request(), transport=_sts(200, _body(f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT)))
    assert identity.canonical_arn == f"arn:aws:iam::{ACCOUNT}:root"
    assert identity.user_id == ACCOUNT


def test_regional_host_and_metric_region() -> None:
    host = "sts.eu-west-1.amazonaws.com"
    sts = _sts(500, b"oops")
    before = _metric("sts_responses", ResponseCode="500", StsRegion="eu-west-1")
    rejected = _rejected(_request(region="eu-west-1", host=host), transport=sts)
    assert rejected.kind is RejectionKind.STS_ERROR
    assert "got 500" in rejected.reason and "eu-west-1" in rejected.reason
    assert [sent.origin for sent in sts.sent] == [("https", host, 443)]
    assert _metric("sts_responses", ResponseCode="500", StsRegion="eu-west-1") == before + 1


FORBIDDEN_XML = (
    b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
    b"<Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match"
    b"</Message></Error><RequestId>x</RequestId></ErrorResponse>"
)


def test_403_is_sts_error_with_code_only() -> None:
    rejected = _rejected(_request(), transport=_sts(403, FORBIDDEN_XML))
    assert rejected.kind is RejectionKind.STS_ERROR
    assert rejected.reason == "error from AWS (expected 200, got 403) on us-east-1 endpoint: SignatureDoesNotMatch"


def test_500_is_sts_error() -> None:
    rejected = _rejected(_request(), transport=_sts(500, {"Error": {"Code": "InternalFailure"}}))
    assert rejected.kind is RejectionKind.STS_ERROR
    assert rejected.reason.endswith("got 500) on us-east-1 endpoint: InternalFailure")


def _xml_error(code: str, message: str = "Rate exceeded") -> bytes:
    """An STS error in its XML form (STS's default, and moto's)."""
    return (
        b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
        b"<Code>%s</Code><Message>%s</Message></Error><RequestId>x</RequestId></ErrorResponse>"
        % (code.encode(), escape(message).encode())
    )


def _json_error(code: str, message: str = "Rate exceeded") -> dict[str, Any]:
    """An STS error in its JSON form (what ``Accept: application/json`` gets)."""
    return {"Error": {"Code": code, "Message": message, "Type": "Sender"}, "RequestId": "x"}


# A SignatureDoesNotMatch quotes the canonical request STS computed: the caller's own query, in
# which a token may carry any word (its signature fails, and STS says so in the message).
ECHOED = (
    "The request signature we calculated does not match the signature you provided. The Canonical String"
    " for this request should have been 'GET / Action=GetCallerIdentity&Throttling=Throttling ...'"
)


@pytest.mark.parametrize(
    ("status", "body", "shown"),
    [
        (400, _json_error("Throttling"), "Throttling"),
        (400, _xml_error("Throttling"), "Throttling"),
        (400, _json_error("ThrottlingException"), "ThrottlingException"),
        (400, _json_error("RequestLimitExceeded"), "RequestLimitExceeded"),
        (503, _xml_error("RequestLimitExceeded"), "RequestLimitExceeded"),
        (503, _json_error("SlowDown"), "SlowDown"),
        (429, _json_error("TooManyRequestsException"), "TooManyRequestsException"),
        (429, b"", "429"),  # botocore too: a 429 is throttling whatever it says
        (429, b"<html><body>Too Many Requests</body></html>", "429"),
    ],
    ids=[
        "400-json-Throttling",
        "400-xml-Throttling",
        "400-ThrottlingException",
        "400-RequestLimitExceeded",
        "503-RequestLimitExceeded",
        "503-SlowDown",
        "429-TooManyRequestsException",
        "429-empty",
        "429-html",
    ],
)
def test_throttling_is_a_throttling_code_or_a_429(status: int, body: bytes | dict[str, Any], shown: str) -> None:
    before = _metric("sts_throttling", StsRegion="us-east-1")
    rejected = _rejected(_request(), transport=_sts(status, body))
    assert rejected.kind is RejectionKind.STS_THROTTLING
    assert rejected.reason == f"STS throttled the request on us-east-1 endpoint ({shown})"
    assert _metric("sts_throttling", StsRegion="us-east-1") == before + 1


@pytest.mark.parametrize(
    ("status", "body", "shown"),
    [
        (403, _xml_error("SignatureDoesNotMatch", ECHOED), ": SignatureDoesNotMatch"),
        (403, _json_error("SignatureDoesNotMatch", ECHOED), ": SignatureDoesNotMatch"),
        (400, _xml_error("InvalidParameterValue", "Throttling is not a valid parameter"), ": InvalidParameterValue"),
        (500, _json_error("InternalFailure", "Throttling subsystem unavailable"), ": InternalFailure"),
        # Not a status AWS throttles with, whatever the code says.
        (403, _json_error("Throttling"), ": Throttling"),
        (500, _xml_error("ThrottlingException"), ": ThrottlingException"),
        # The word, but no error code at all.
        (400, b"Throttling", ""),
        (503, b"<html><body>Throttling</body></html>", ""),
        # A code-shaped text inside the message, the real code after it.
        (
            400,
            b"<ErrorResponse><Error><Message><![CDATA[<Code>Throttling</Code>]]></Message>"
            b"<Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>",
            ": SignatureDoesNotMatch",
        ),
        # "Code" elsewhere than Error.Code.
        (400, {"RequestId": "x", "Detail": {"Code": "Throttling"}, "Error": {"Message": "m"}}, ""),
        (400, b"<ErrorResponse><Detail><Code>Throttling</Code></Detail></ErrorResponse>", ""),
        (400, b"<Error><Code>Throttling</Code></Error>", ""),
        # A DTD is refused, not expanded.
        (
            400,
            b'<!DOCTYPE e [<!ENTITY t "Throttling">]><ErrorResponse><Error><Code>&t;</Code></Error></ErrorResponse>',
            "",
        ),
    ],
    ids=[
        "403-xml-echoed-in-message",
        "403-json-echoed-in-message",
        "400-other-code",
        "500-other-code",
        "403-Throttling",
        "500-ThrottlingException",
        "400-plain-word",
        "503-html-word",
        "code-in-cdata",
        "json-code-outside-error",
        "xml-code-outside-error",
        "xml-not-an-error-response",
        "xml-entity",
    ],
)
def test_throttling_is_never_a_word_in_the_answer(status: int, body: bytes | dict[str, Any], shown: str) -> None:
    before = _metric("sts_throttling", StsRegion="us-east-1")
    rejected = _rejected(_request(), transport=_sts(status, body))
    assert rejected.kind is RejectionKind.STS_ERROR
    assert rejected.reason == f"error from AWS (expected 200, got {status}) on us-east-1 endpoint{shown}"
    assert _metric("sts_throttling", StsRegion="us-east-1") == before


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ({"RequestId": "x", "Detail": {"Code": "Nested"}, "Error": {"Code": "AccessDenied"}}, ": AccessDenied"),
        (_json_error("Not a code <b>"), ""),
        (_json_error("A" * 65), ""),
        ({"Error": {"Code": 403}}, ""),
        (b'{"Error": ' * 5_000, ""),
        (b"<a>" * 10_000, ""),
        (b'<?xml version="1.0" encoding="no-such-encoding"?><ErrorResponse/>', ""),
        (b"\xff\xfe{", ""),
    ],
    ids=[
        "first-code-is-not-the-error-s",
        "not-code-shaped",
        "too-long",
        "not-a-string",
        "json-deep",
        "xml-deep",
        "unknown-encoding",
        "not-utf8",
    ],
)
def test_the_reason_names_the_error_code_or_none(body: bytes | dict[str, Any], shown: str) -> None:
    rejected = _rejected(_request(), transport=_sts(403, body))
    assert rejected.kind is RejectionKind.STS_ERROR
    assert rejected.reason == f"error from AWS (expected 200, got 403) on us-east-1 endpoint{shown}"


def test_throttling_codes_are_botocores() -> None:
    # Our copy of botocore's private list (authenticator/sts.py says why a copy): kept in step.
    from botocore.retries.standard import ThrottledRetryableChecker

    assert set(vars(ThrottledRetryableChecker)["_THROTTLED_ERROR_CODES"]) == THROTTLING_CODES


def test_connect_timeout() -> None:
    before = _metric("sts_connection_failures", StsRegion="us-east-1")
    rejected = _rejected(_request(), transport=RecordingTransport.failing(httpx.ConnectTimeout("timed out")))
    assert rejected.kind is RejectionKind.STS_ERROR
    assert "timeout" in rejected.reason
    assert _metric("sts_connection_failures", StsRegion="us-east-1") == before + 1


def test_total_deadline_bounds_a_slow_answer() -> None:
    async def hang(sent: Sent) -> tuple[int, bytes]:
        await asyncio.Event().wait()  # cancelled by the client's deadline
        return 200, b""

    sts = RecordingTransport(hang)
    rejected = _rejected(_request(), timeout=0.05, transport=sts)
    assert [sent.host for sent in sts.sent] == ["sts.us-east-1.amazonaws.com"]
    assert rejected.kind is RejectionKind.STS_ERROR
    assert "timeout" in rejected.reason


def test_transport_error() -> None:
    refused = RecordingTransport.failing(httpx.ConnectError("[Errno 111] Connection refused"))
    rejected = _rejected(_request(), transport=refused)
    assert rejected.kind is RejectionKind.STS_ERROR
    assert rejected.reason == "error during GET: ConnectError: [Errno 111] Connection refused on us-east-1 endpoint"


def test_redirect_is_an_sts_error() -> None:
    # The transport does not follow it (tests/test_sts_transport.py); the client denies it.
    sts = _sts(302, b"")
    rejected = _rejected(_request(), transport=sts)
    assert rejected.kind is RejectionKind.STS_ERROR
    assert "got 302" in rejected.reason
    assert len(sts.sent) == 1


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
            b"<Arn>arn:aws:iam::123456789012:user/a</Arn><UserId>AIDA</UserId><Account>123456789012</Account>"
            b"</GetCallerIdentityResult></GetCallerIdentityResponse>",
            "not JSON",
        ),
        (json.dumps(_body("arn:aws:iam::123456789012:user/a", "AIDA")).encode()[:-7], "not JSON"),
        (b"", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[]", "missing GetCallerIdentityResponse"),
        (b'{"GetCallerIdentityResponse": {}}', "missing GetCallerIdentityResult"),
        (
            json.dumps({"GetCallerIdentityResponse": {"GetCallerIdentityResult": {"Account": ACCOUNT, "UserId": "A"}}}),
            "missing Arn",
        ),
        (
            json.dumps(
                {
                    "GetCallerIdentityResponse": {
                        "GetCallerIdentityResult": _body("arn:aws:iam::1:user/a", "A")["GetCallerIdentityResponse"][
                            "GetCallerIdentityResult"
                        ]
                    }
                }
            ),
            "missing ResponseMetadata",
        ),
        (json.dumps(_body("arn:aws:iam::123456789012:user/a", "")), "UserId is not a non-empty string"),
        (json.dumps(_body("arn:aws:iam::123456789012:user/a", "AIDA", account=None)), "Account is not"),  # type: ignore[arg-type]
        (json.dumps(_body("arn:aws:s3::123456789012:bucket", "AIDA")), "not a valid service"),
        (json.dumps(_body("arn:aws-foo:iam::123456789012:user/a", "AIDA")), "recognized partition"),
        (json.dumps(_body("arn:aws:iam::999999999999:user/a", "AIDA")), "does not match the account"),
        # Roles must answer "AROA…:<session>".
        (json.dumps(_body("arn:aws:sts::123456789012:assumed-role/r/s", "AROAEXAMPLE")), "malformed UserID"),
        (json.dumps(_body("arn:aws:sts::123456789012:assumed-role/r/s", "AROAX:s:t")), "malformed UserID"),
        (json.dumps(_body("arn:aws:sts::123456789012:assumed-role/r/s", "AIDAX:s")), "malformed UserID"),
        (json.dumps(_body("arn:aws:sts::123456789012:assumed-role/r/s", "AROAX:")), "malformed UserID"),
        (b"[" * 10_000, "not JSON"),  # nested past the recursion limit
    ],
    ids=[
        "xml",
        "truncated-json",
        "empty",
        "not-utf8",
        "json-array",
        "no-result",
        "no-arn",
        "no-response-metadata",
        "empty-user-id",
        "account-not-string",
        "not-an-identity-arn",
        "unknown-partition",
        "account-mismatch",
        "role-user-id-without-colon",
        "role-user-id-two-colons",
        "role-user-id-not-aroa",
        "role-empty-session",
        "nested-too-deep",
    ],
)
def test_200_with_wrong_shape_is_sts_error(content: bytes | str, reason: str) -> None:
    body = content.encode() if isinstance(content, str) else content
    rejected = _rejected(_request(), transport=_sts(200, body))
    assert rejected.kind is RejectionKind.STS_ERROR
    assert reason in rejected.reason


def test_oversized_answer_is_sts_error() -> None:
    rejected = _rejected(_request(), transport=_sts(200, b" " * (65 * 1024)))
    assert rejected.kind is RejectionKind.STS_ERROR
    assert "too large" in rejected.reason


def test_endpoint_override_keeps_host_path_and_query() -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:user/alice"
    sts = _sts(200, _body(arn, "AIDAX"))
    request = _request(session_token="a+b/c=d")
    identity = _call(request, endpoint_override="https://127.0.0.1:8443", transport=sts)
    assert identity.sts_endpoint == "sts.us-east-1.amazonaws.com"
    (sent,) = sts.sent
    assert sent.origin == ("https", "127.0.0.1", 8443)  # connected to the override only
    assert sent.headers["host"] == "sts.us-east-1.amazonaws.com"
    assert sent.headers["x-k8s-aws-id"] == CLUSTER
    assert sent.headers["accept"] == "application/json"
    assert sent.target == request.url[len(STS_URL) - 1 :].encode()


def test_nothing_logs_the_url(caplog: pytest.LogCaptureFixture) -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:user/alice"

    def answer(sent: Sent) -> tuple[int, bytes]:
        if sent.host == "sts.eu-west-1.amazonaws.com":
            raise httpx.ConnectError("refused")
        return 200, json.dumps(_body(arn, "AIDAX")).encode()

    request = _request(session_token="SECRETSESSIONTOKEN")
    failing = _request(host="sts.eu-west-1.amazonaws.com", region="eu-west-1", session_token="SECRETSESSIONTOKEN")
    with caplog.at_level(logging.DEBUG):
        _call(request, transport=RecordingTransport(answer))
        assert "refused" in _rejected(failing, transport=RecordingTransport(answer)).reason
    signature = request.url.rsplit("=", 1)[1]
    assert signature not in caplog.text
    assert "SECRETSESSIONTOKEN" not in caplog.text
    assert "X-Amz-" not in caplog.text


@pytest.mark.parametrize(
    "override", ["ftp://127.0.0.1", "https://127.0.0.1/path", "https://127.0.0.1/?q=1", "https://u@127.0.0.1", "x"]
)
def test_bad_endpoint_override(override: str) -> None:
    with pytest.raises(ValueError):
        STSClient(cluster_id=CLUSTER, endpoint_override=override)


def test_sts_never_contacted_for_a_rejected_token() -> None:
    sts = _sts(200)
    table = tc.rejection_cases(NOW)

    async def review_all() -> list[RejectionKind]:
        kinds: list[RejectionKind] = []
        async with STSClient(cluster_id=CLUSTER, transport=sts) as client:
            for _, token, _ in table:
                # The order the webhook uses: local rules first, STS only for a parsed request.
                try:
                    await client.get_caller_identity(parse_token(token, now=NOW, partition=AWS))
                except TokenRejected as rejected:
                    kinds.append(rejected.kind)
            assert sts.sent == []
            # The same client does reach the double for a good token: it is live.
            with pytest.raises(TokenRejected):  # the double answers 200 with no body
                await client.get_caller_identity(parse_token(tc.mint(NOW), now=NOW, partition=AWS))
        return kinds

    assert asyncio.run(review_all()) == [RejectionKind.INVALID_TOKEN] * len(table)
    assert len(sts.sent) == 1


# What really goes over the wire: a local HTTPS server with a trustme certificate.


@pytest.fixture
def https_peer(tmp_path: Path) -> Iterator[tuple[str, str, list[tuple[str, dict[str, str]]]]]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    seen: list[tuple[str, dict[str, str]]] = []
    body = json.dumps(_body(f"arn:aws:sts::{ACCOUNT}:assumed-role/dev/s1", "AROAXYZ:s1")).encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), recording_handler(seen, body))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with serving(server):
        yield f"https://127.0.0.1:{server.server_address[1]}", str(ca_path), seen


def test_override_over_real_tls(
    https_peer: tuple[str, str, list[tuple[str, dict[str, str]]]], caplog: pytest.LogCaptureFixture
) -> None:
    url, ca_path, seen = https_peer
    request = _request(session_token="FwoG+/=x%")
    with caplog.at_level(logging.DEBUG):
        identity = _call(request, endpoint_override=url, ca_bundle=ca_path)
    assert "X-Amz-" not in caplog.text  # nothing at DEBUG carries the presigned URL
    assert identity.canonical_arn == f"arn:aws:iam::{ACCOUNT}:role/dev"
    assert identity.session_name == "s1"
    path, headers = seen[-1]
    assert path == request.url[len(STS_URL) - 1 :]  # byte for byte
    assert headers["host"] == "sts.us-east-1.amazonaws.com"
    assert headers["x-k8s-aws-id"] == CLUSTER
    assert headers["accept"] == "application/json"


def test_override_with_localhost_name(https_peer: tuple[str, str, list[tuple[str, dict[str, str]]]]) -> None:
    url, ca_path, seen = https_peer
    _call(_request(), endpoint_override=url.replace("127.0.0.1", "localhost"), ca_bundle=ca_path)
    assert seen[-1][1]["host"] == "sts.us-east-1.amazonaws.com"


def test_override_without_the_ca_fails_closed(https_peer: tuple[str, str, list[tuple[str, dict[str, str]]]]) -> None:
    url, _, seen = https_peer
    rejected = _rejected(_request(), endpoint_override=url)
    assert rejected.kind is RejectionKind.STS_ERROR
    assert rejected.reason.startswith("error during GET: ConnectError")
    assert seen == []


def test_keep_alive_reuses_one_connection(https_peer: tuple[str, str, list[tuple[str, dict[str, str]]]]) -> None:
    url, ca_path, seen = https_peer

    async def twice() -> None:
        async with STSClient(cluster_id=CLUSTER, endpoint_override=url, ca_bundle=ca_path) as client:
            for _ in range(3):
                await client.get_caller_identity(_request())

    asyncio.run(twice())
    assert len(seen) == 3
    assert len({headers["client-port"] for _, headers in seen}) == 1


def test_a_host_label_too_long_to_resolve_is_an_sts_error() -> None:
    # Passes the local rules (docs/token.md sets no length on the region label), but no resolver takes
    # a 64-byte label: the connection fails, and that is a denial, never an exception.
    region = "a" * 64
    request = _request(region=region, host=f"sts.{region}.amazonaws.com")
    with pytest.raises(TokenRejected) as caught:
        _call(request)
    assert caught.value.kind is RejectionKind.STS_ERROR
    assert "error during GET" in caught.value.reason
