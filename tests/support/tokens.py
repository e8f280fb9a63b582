"""Tokens for the tests and the benchmarks: one stdlib presigner, botocore's as a second opinion.

- ``presign_url`` is a small stdlib SigV4 query presigner (checked byte for byte
  against the reference's vector of docs/token.md §1 in test_token_rules.py).
- ``rejection_cases(now)`` is the table of malformed and hostile tokens for a server
  configured with partition ``aws``: a list of ``(id, token, expected reason substring)``.
  Every token is minted relative to ``now`` so that the server tests can replay the same
  table through HTTP with the real clock (time-based cases keep a 2-minute margin; the
  exact boundaries are tested with a fixed clock); only the intended flaw makes each token bad.
- ``partition_rejection_cases(now)``: ``(id, partition name, token, reason)`` for the other
  partitions.
- ``mint_token``: a token with a fresh made-up access key id, for stand-ins that check no
  signature (each fresh key id is a fresh verification, never a cache hit).
- ``make_url``/``make_token``: a token of the right shape with a dummy signature, for doubles
  behind the STS seam (nothing checks the signature there).
- ``botocore_token``: signed by botocore's own SigV4 signer, for the moto STS peer, so that a test
  of the server is not also a test of our own signing code agreeing with itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TypedDict, Unpack
from urllib.parse import quote

from authenticator.token import PresignedRequest, parse_token

TOKEN_PREFIX = "k8s-aws-v1."

# The reference's deterministic vector (docs/token.md §1).
VECTOR_ACCESS_KEY = "ASIAR2TG44V6AS3ZZE7C"
VECTOR_SECRET_KEY = "4KD5cntGcVmLWRdF5wvNRuzNL5Qxmp6OKVY6Fz/Q"
VECTOR_CLUSTER = "test-cluster"
VECTOR_SIGNED_AT = datetime(2023, 4, 28, tzinfo=UTC)
VECTOR_URL = (
    "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15"
    "&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAR2TG44V6AS3ZZE7C%2F20230428%2Fus-west-2%2Fsts"
    "%2Faws4_request&X-Amz-Date=20230428T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"
    "&X-Amz-Signature=e211dba77aba9dc44b0b6be38b8eaad092599c5157f6314444c5b9d85747f5ce"
)

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CLUSTER = "my-cluster"
HOST = "sts.us-east-1.amazonaws.com"
REGION = "us-east-1"
# A fixed clock for the unit tests; the table itself works for any `now`.
FIXED_NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)

_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _enc(text: str) -> str:
    return quote(text, safe="-_.~")


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def presign_url(
    *,
    access_key: str = ACCESS_KEY,
    secret_key: str = SECRET_KEY,
    session_token: str | None = None,
    region: str = REGION,
    host: str = HOST,
    cluster_id: str = CLUSTER,
    signed_at: datetime,
    expires: int = 60,
) -> str:
    """SigV4 query presign of ``GET https://<host>/?Action=GetCallerIdentity&Version=2011-06-15``."""
    amz_date = signed_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    scope = f"{amz_date[:8]}/{region}/sts/aws4_request"
    params = {
        "Action": "GetCallerIdentity",
        "Version": "2011-06-15",
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{access_key}/{scope}",
        "X-Amz-Date": amz_date,
        "X-Amz-Expires": str(expires),
        "X-Amz-SignedHeaders": "host;x-k8s-aws-id",
    }
    if session_token is not None:
        params["X-Amz-Security-Token"] = session_token
    query = "&".join(f"{_enc(k)}={_enc(v)}" for k, v in sorted(params.items()))
    canonical_request = "\n".join(
        ["GET", "/", query, f"host:{host}", f"x-k8s-aws-id:{cluster_id}", "", "host;x-k8s-aws-id", _EMPTY_SHA256]
    )
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _hmac(("AWS4" + secret_key).encode(), amz_date[:8])
    for part in (region, "sts", "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"https://{host}/?{query}&X-Amz-Signature={signature}"


def encode(url: str | bytes) -> str:
    """Wrap any URL (text or raw bytes) as a token, as the client plugin does."""
    raw = url.encode("utf-8") if isinstance(url, str) else url
    return TOKEN_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(token: str) -> str:
    """The URL inside a well-formed token."""
    data = token.removeprefix(TOKEN_PREFIX)
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode()


class PresignOptions(TypedDict, total=False):
    """``presign_url``'s optional arguments, for the helpers that pass them through."""

    access_key: str
    secret_key: str
    session_token: str | None
    region: str
    host: str
    cluster_id: str
    expires: int


def mint(now: datetime, *, age: timedelta = timedelta(minutes=1), **kwargs: Unpack[PresignOptions]) -> str:
    """A valid token signed ``age`` before ``now``."""
    return encode(presign_url(signed_at=now - age, **kwargs))


Params = list[tuple[str, str]]
# What ``build`` accepts: a pair may also be a bare key without ``=`` (value None).
RawParams = Sequence[tuple[str, str | None]]


def query_pairs(url: str) -> Params:
    """The raw (still percent-encoded) ``key=value`` pairs of a presigned URL's query."""
    pairs: Params = []
    for pair in url.split("?", 1)[1].split("&"):
        key, _, value = pair.partition("=")
        pairs.append((key, value))
    return pairs


def base_params(now: datetime, **kwargs: Unpack[PresignOptions]) -> Params:
    """The raw (still percent-encoded) query pairs of a valid presigned URL."""
    return query_pairs(presign_url(signed_at=now - timedelta(minutes=1), **kwargs))


def replace(params: Params, key: str, value: str) -> Params:
    return [(k, value if k == key else v) for k, v in params]


def drop(params: Params, key: str) -> Params:
    return [(k, v) for k, v in params if k != key]


def add(params: Params, key: str, value: str) -> Params:
    return [*params, (key, value)]


def build(params: RawParams, *, host: str = HOST, scheme: str = "https://", path: str = "/", sep: str = "&") -> str:
    return f"{scheme}{host}{path}?" + sep.join(f"{k}={v}" if v is not None else k for k, v in params)


def token_of(params: RawParams, **kwargs: str) -> str:
    return encode(build(params, **kwargs))


def _amz(when: datetime) -> str:
    return when.strftime("%Y%m%dT%H%M%SZ")


def _replace_char(token: str, index: int, char: str) -> str:
    return token[:index] + char + token[index + 1 :]


def _noncanonical_tail(token: str) -> str:
    """Same bytes, but the unused low bits of the last base64 character set."""
    body = token[len(TOKEN_PREFIX) :]
    assert len(body) % 4 in (2, 3)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(body[-1])
    return token[:-1] + alphabet[last | 1]


def _with_unaligned_length(now: datetime) -> str:
    """A valid token whose base64 body length is not a multiple of 4 (needs a stripped pad)."""
    for extra in range(3):
        token = mint(now, session_token="S" * (10 + extra))
        if len(token[len(TOKEN_PREFIX) :]) % 4 != 0:
            return token
    raise AssertionError("unreachable")


def rejection_cases(now: datetime) -> list[tuple[str, str, str]]:
    """``(id, token, expected reason substring)`` for a verifier in partition aws at ``now``."""
    good = mint(now)
    body = good[len(TOKEN_PREFIX) :]
    p = base_params(now)
    url = build(p)
    unaligned = _with_unaligned_length(now)
    cred = dict(p)["X-Amz-Credential"]
    day = now.strftime("%Y%m%d")

    def _params_at(when: datetime) -> Params:
        return query_pairs(presign_url(signed_at=when))

    cases: list[tuple[str, str, str]] = [
        # Rule 1: size, in bytes, before anything else.
        ("oversize", mint(now, session_token="A" * 3100), "token is too large"),
        ("oversize-multibyte", TOKEN_PREFIX + "\u00e9" * 2100, "token is too large"),
        ("oversize-no-prefix", "x" * 4097, "token is too large"),
        # Rule 2: prefix.
        ("no-prefix", body, 'missing expected "k8s-aws-v1." prefix'),
        ("prefix-upper-case", "K8S-AWS-V1." + body, "missing expected"),
        ("prefix-v2", "k8s-aws-v2." + body, "missing expected"),
        ("empty", "", "missing expected"),
        ("bearer-prefix", "Bearer " + good, "missing expected"),
        # Rule 3: strict unpadded base64url.
        ("padding", unaligned + "=" * (-(len(unaligned) - len(TOKEN_PREFIX)) % 4), "illegal base64 data"),
        ("plus", _replace_char(good, 40, "+"), "illegal base64 data"),
        ("slash", _replace_char(good, 40, "/"), "illegal base64 data"),
        ("crlf-embedded", good[:60] + "\r\n" + good[60:], "illegal base64 data"),
        ("trailing-newline", good + "\n", "illegal base64 data"),
        ("space-embedded", good[:60] + " " + good[60:], "illegal base64 data"),
        ("non-ascii", good[:60] + "\u00e9" + good[60:], "illegal base64 data"),
        ("length-1-mod-4", good + "A" * ((1 - len(body)) % 4 or 4), "illegal base64 data"),
        ("noncanonical-tail-bits", _noncanonical_tail(unaligned), "illegal base64 data"),
        # Rule 4: an absolute URL of visible ASCII.
        ("url-not-ascii", encode(url.encode() + b"\xff"), "invalid character in URL"),
        ("url-crlf", encode(url + "\r\nX-Injected: 1"), "invalid character in URL"),
        ("url-space", encode(url.replace("?", "? ", 1)), "invalid character in URL"),
        ("url-nul", encode(url + "\x00"), "invalid character in URL"),
        ("url-no-scheme", encode(url[len("https://") :]), "missing protocol scheme"),
        ("url-empty", TOKEN_PREFIX, "missing protocol scheme"),
        # Rule 5: https only.
        ("scheme-http", token_of(p, scheme="http://"), 'unexpected scheme "http"'),
        ("scheme-upper-case", token_of(p, scheme="HTTPS://"), 'unexpected scheme "HTTPS"'),
        ("scheme-ftp", token_of(p, scheme="ftp://"), 'unexpected scheme "ftp"'),
        # Rule 6 and §4: the host, exactly as written.
        ("opaque-no-slashes", token_of(p, scheme="https:"), 'unexpected hostname ""'),
        ("host-empty", token_of(p, host=""), 'unexpected hostname ""'),
        ("userinfo-evil-host", token_of(p, host=f"{HOST}@evil.com"), f'unexpected hostname "{HOST}@evil.com"'),
        ("userinfo-good-host", token_of(p, host=f"evil.com@{HOST}"), "unexpected hostname"),
        ("userinfo-password", token_of(p, host=f"u:p@{HOST}"), "unexpected hostname"),
        ("port-443", token_of(p, host=f"{HOST}:443"), f'unexpected hostname "{HOST}:443"'),
        ("port-8443", token_of(p, host=f"{HOST}:8443"), "unexpected hostname"),
        ("port-empty", token_of(p, host=f"{HOST}:"), "unexpected hostname"),
        ("trailing-dot", token_of(p, host=HOST + "."), f'unexpected hostname "{HOST}."'),
        ("host-upper-case", token_of(p, host=HOST.upper()), "unexpected hostname"),
        ("host-mixed-case", token_of(p, host="Sts.us-east-1.amazonaws.com"), "unexpected hostname"),
        ("lookalike-suffix", token_of(p, host=HOST + ".evil.com"), "unexpected hostname"),
        ("lookalike-prefix", token_of(p, host="evilsts.us-east-1.amazonaws.com"), "unexpected hostname"),
        ("lookalike-tld", token_of(p, host="sts.us-east-1.amazonaws.co"), "unexpected hostname"),
        ("subdomain", token_of(p, host="x.sts.us-east-1.amazonaws.com"), "unexpected hostname"),
        ("website", token_of(p, host="website.amazonaws.com"), "unexpected hostname"),
        ("cn-no-region", token_of(p, host="sts.amazonaws.com.cn"), "unexpected hostname"),
        ("cn-host-in-aws", token_of(p, host="sts.cn-north-1.amazonaws.com.cn"), "unexpected hostname"),
        ("us-region-cn-domain", token_of(p, host="sts.us-west-2.amazonaws.com.cn"), "unexpected hostname"),
        ("gov-region-in-aws", token_of(p, host="sts.us-gov-west-1.amazonaws.com"), "unexpected hostname"),
        ("google", token_of(p, host="google.com"), "unexpected hostname"),
        ("ip-literal", token_of(p, host="127.0.0.1"), "unexpected hostname"),
        ("ipv6-literal", token_of(p, host="[::1]"), "unexpected hostname"),
        ("bad-region-label", token_of(p, host="sts.us_east_1.amazonaws.com"), "unexpected hostname"),
        ("percent-in-host", token_of(p, host="sts.us-east-1.amazonaws%2Ecom"), "unexpected hostname"),
        ("fragment", encode(url + "#frag"), "unexpected hostname"),
        ("fragment-empty", encode(url + "#"), "unexpected hostname"),
        # Rule 7: path is "/".
        ("path-other", token_of(p, path="/foo"), "unexpected path in pre-signed URL"),
        ("path-empty", token_of(p, path=""), "unexpected path"),
        ("path-double-slash", token_of(p, path="//"), "unexpected path"),
        ("path-dot", token_of(p, path="/./"), "unexpected path"),
        ("path-encoded", token_of(p, path="/%2F"), "unexpected path"),
        # Rule 8: query syntax.
        ("semicolon-separator", token_of(p, sep=";"), "malformed query parameter"),
        ("semicolon-in-value", token_of(add(p, "Version", "2011-06-15;x=1")), "malformed query parameter"),
        ("bad-percent-escape", token_of(add(p, "X-Amz-Security-Token", "ab%zz")), "malformed query parameter"),
        ("truncated-percent-escape", encode(url + "%4"), "malformed query parameter"),
        ("empty-key", token_of(add(p, "", "x")), "malformed query parameter"),
        ("empty-segment", encode(url.replace("&", "&&", 1)), "malformed query parameter"),
        ("trailing-ampersand", encode(url + "&"), "malformed query parameter"),
        ("quote-in-query", token_of(add(p, "X-Amz-Security-Token", 'a"b')), "malformed query parameter"),
        ("angle-in-query", token_of(add(p, "X-Amz-Security-Token", "a<b>")), "malformed query parameter"),
        # Rule 9: CVE-2022-2385, keys that collide when lower-cased.
        ("cve-2022-2385-credential", token_of(add(p, "x-amz-credential", cred)), "duplicate query parameter found"),
        (
            "cve-2022-2385-credential-first",
            token_of([("x-amz-credential", "AKIAEVILEVILEVILEVIL%2F" + day), *p]),
            "duplicate query parameter found",
        ),
        ("duplicate-action-case", token_of(add(p, "ACTION", "GetCallerIdentity")), "duplicate query parameter"),
        ("duplicate-percent-encoded-key", token_of(add(p, "x-amz-cr%65dential", cred)), "duplicate query parameter"),
        ("same-key-percent-encoded", token_of(add(p, "X-Amz-Cr%65dential", cred)), "multiple values not supported"),
        # Rule 10: allow-list.
        ("extra-param", token_of(add(p, "Foo", "bar")), 'non-whitelisted query parameter "Foo"'),
        ("extra-amz-param", token_of(add(p, "X-Amz-Security-Token2", "x")), "non-whitelisted query parameter"),
        ("content-type-param", token_of(add(p, "ContentType", "JSON")), "non-whitelisted query parameter"),
        # Rule 11: one value each.
        ("action-twice", token_of(add(p, "Action", "GetCallerIdentity")), "multiple values not supported"),
        ("signature-twice", token_of(add(p, "X-Amz-Signature", "0" * 64)), "multiple values not supported"),
        # Rule 12: Action.
        ("action-missing", token_of(drop(p, "Action")), "unexpected action parameter"),
        ("action-other", token_of(replace(p, "Action", "GetSessionToken")), "unexpected action parameter"),
        ("action-lower-case", token_of(replace(p, "Action", "getcalleridentity")), "unexpected action parameter"),
        ("no-query", encode(f"https://{HOST}/"), "unexpected action parameter"),
        # Rule 13: Version.
        ("version-other", token_of(replace(p, "Version", "2011-06-16")), "unexpected version parameter"),
        ("version-no-value", token_of([(k, v) if k != "Version" else (k, None) for k, v in p]), "unexpected version"),
        # Rule 14: x-k8s-aws-id signed.
        ("unsigned-cluster-id", token_of(replace(p, "X-Amz-SignedHeaders", "host")), "did not sign the x-k8s-aws-id"),
        ("signed-headers-missing", token_of(drop(p, "X-Amz-SignedHeaders")), "did not sign the x-k8s-aws-id"),
        ("signed-headers-lookalike", token_of(replace(p, "X-Amz-SignedHeaders", "host%3Bx-k8s-aws-idx")), "did not"),
        # Rule 15: X-Amz-Expires.
        ("expires-901", token_of(replace(p, "X-Amz-Expires", "901")), "invalid X-Amz-Expires parameter in pre-signed"),
        (
            "expires-negative",
            token_of(replace(p, "X-Amz-Expires", "-1")),
            'X-Amz-Expires parameter in pre-signed URL: "-1"',
        ),
        ("expires-alpha", token_of(replace(p, "X-Amz-Expires", "abc")), "invalid X-Amz-Expires"),
        ("expires-plus-sign", token_of(replace(p, "X-Amz-Expires", "%2B60")), "invalid X-Amz-Expires"),
        ("expires-space", token_of(replace(p, "X-Amz-Expires", "%2060")), "invalid X-Amz-Expires"),
        ("expires-huge", token_of(replace(p, "X-Amz-Expires", "9" * 40)), "invalid X-Amz-Expires"),
        ("expires-missing", token_of(drop(p, "X-Amz-Expires")), "invalid X-Amz-Expires"),
        # Rule 16: X-Amz-Date.
        ("date-missing", token_of(drop(p, "X-Amz-Date")), "X-Amz-Date parameter must be present"),
        ("date-empty", token_of(replace(p, "X-Amz-Date", "")), "X-Amz-Date parameter must be present"),
        ("date-iso", token_of(replace(p, "X-Amz-Date", "2024-05-06T07%3A08%3A09Z")), "error parsing X-Amz-Date"),
        ("date-month-13", token_of(replace(p, "X-Amz-Date", "20241306T070809Z")), "error parsing X-Amz-Date"),
        ("date-no-zulu", token_of(replace(p, "X-Amz-Date", _amz(now)[:-1])), "error parsing X-Amz-Date"),
        # Rule 17: expired.
        ("expired-by-2m", token_of(_params_at(now - timedelta(minutes=17))), "is expired (15 minute"),
        ("expired-long-ago", token_of(_params_at(now - timedelta(days=400))), "X-Amz-Date parameter is expired"),
        # Rule 18: from the future.
        ("future-by-2m", token_of(_params_at(now + timedelta(minutes=17))), "in the future"),
        ("future-far", token_of(_params_at(now + timedelta(days=30))), "in the future"),
        # Rule 19: X-Amz-Credential.
        ("credential-missing", token_of(drop(p, "X-Amz-Credential")), "X-Amz-Credential parameter must be present"),
        ("credential-akid-only", token_of(replace(p, "X-Amz-Credential", ACCESS_KEY)), "malformed X-Amz-Credential"),
        (
            "credential-wrong-service",
            token_of(replace(p, "X-Amz-Credential", cred.replace("%2Fsts%2F", "%2Fiam%2F"))),
            "malformed X-Amz-Credential",
        ),
        (
            "credential-extra-segment",
            token_of(replace(p, "X-Amz-Credential", "x%2F" + cred)),
            "malformed X-Amz-Credential",
        ),
        (
            "credential-short-akid",
            token_of(replace(p, "X-Amz-Credential", cred.replace(ACCESS_KEY, "AKID"))),
            "malformed X-Amz-Credential",
        ),
        (
            "credential-other-region",
            token_of(replace(p, "X-Amz-Credential", cred.replace("us-east-1", "us-west-2"))),
            'X-Amz-Credential region "us-west-2" does not match',
        ),
        (
            "credential-other-day",
            token_of(replace(p, "X-Amz-Credential", cred.replace(cred.split("%2F")[1], "19991231"))),
            "X-Amz-Credential date does not match X-Amz-Date",
        ),
        # Ours: a SigV4 signature to check.
        ("algorithm-missing", token_of(drop(p, "X-Amz-Algorithm")), "unexpected X-Amz-Algorithm"),
        ("algorithm-other", token_of(replace(p, "X-Amz-Algorithm", "AWS4-HMAC-SHA1")), "unexpected X-Amz-Algorithm"),
        ("signature-missing", token_of(drop(p, "X-Amz-Signature")), "X-Amz-Signature parameter"),
        ("signature-upper-hex", token_of(replace(p, "X-Amz-Signature", "A" * 64)), "X-Amz-Signature parameter"),
        ("signature-short", token_of(replace(p, "X-Amz-Signature", "0" * 63)), "X-Amz-Signature parameter"),
    ]
    return cases


def partition_rejection_cases(now: datetime) -> list[tuple[str, str, str, str]]:
    """``(id, partition name, token, reason substring)`` for verifiers outside partition aws."""
    p = base_params(now)
    return [
        ("global-host-in-aws-cn", "aws-cn", token_of(p, host="sts.amazonaws.com"), "unexpected hostname"),
        ("aws-host-in-aws-cn", "aws-cn", token_of(p, host=HOST), "unexpected hostname"),
        ("cn-region-aws-domain", "aws-cn", token_of(p, host="sts.cn-north-1.amazonaws.com"), "unexpected hostname"),
        ("aws-region-in-gov", "aws-us-gov", token_of(p, host=HOST), "unexpected hostname"),
        ("global-host-in-gov", "aws-us-gov", token_of(p, host="sts.amazonaws.com"), "unexpected hostname"),
        ("aws-region-in-iso", "aws-iso", token_of(p, host="sts.us-east-1.c2s.ic.gov"), "unexpected hostname"),
    ]


def valid_cases(now: datetime) -> list[tuple[str, str, str, str, str]]:
    """``(id, partition, token, host, region)`` of tokens that must pass every local rule."""
    cn = PresignOptions(region="cn-north-1", host="sts.cn-north-1.amazonaws.com.cn")
    gov = PresignOptions(region="us-gov-west-1", host="sts.us-gov-west-1.amazonaws.com")
    return [
        ("regional", "aws", mint(now), HOST, REGION),
        ("session-token", "aws", mint(now, session_token="FwoGZXIvYXdzE+/=x" * 20), HOST, REGION),
        ("global", "aws", mint(now, host="sts.amazonaws.com"), "sts.amazonaws.com", REGION),
        ("fips", "aws", mint(now, host="sts-fips.us-east-1.amazonaws.com"), "sts-fips.us-east-1.amazonaws.com", REGION),
        (
            "dualstack",
            "aws",
            mint(now, region="eu-west-1", host="sts.eu-west-1.api.aws"),
            "sts.eu-west-1.api.aws",
            "eu-west-1",
        ),
        (
            "new-region",
            "aws",
            mint(now, region="xx-future-9", host="sts.xx-future-9.amazonaws.com"),
            "sts.xx-future-9.amazonaws.com",
            "xx-future-9",
        ),
        ("aws-cn", "aws-cn", mint(now, **cn), cn["host"], cn["region"]),
        ("aws-us-gov", "aws-us-gov", mint(now, **gov), gov["host"], gov["region"]),
        ("just-signed", "aws", mint(now, age=timedelta(0)), HOST, REGION),
        ("expires-at-boundary", "aws", mint(now, age=timedelta(minutes=15)), HOST, REGION),
        ("future-at-boundary", "aws", mint(now, age=-timedelta(minutes=15)), HOST, REGION),
        ("expires-0", "aws", mint(now, expires=0), HOST, REGION),
        ("expires-900", "aws", mint(now, expires=900), HOST, REGION),
    ]


# -- tokens for stand-ins that check no signature ----------------------------------------------

WEBHOOK_CLUSTER = "reliability-cluster"  # the cluster id of processes.config_text's server


def fresh_access_key_id() -> str:
    return "AKIA" + secrets.token_hex(8).upper()


def mint_token(
    *,
    access_key_id: str | None = None,
    secret_access_key: str = "bench/secret/key/not/a/real/one/0000000",
    session_token: str | None = None,
    cluster_id: str = WEBHOOK_CLUSTER,
    now: datetime | None = None,
) -> str:
    """A token for ``cluster_id`` signed now (or at ``now``); a fresh access key id unless one is given."""
    return encode(
        presign_url(
            access_key=access_key_id or fresh_access_key_id(),
            secret_key=secret_access_key,
            session_token=session_token,
            cluster_id=cluster_id,
            signed_at=now or datetime.now(UTC),
        )
    )


# -- tokens for doubles behind the STS seam --------------------------------------------------------

NOW = datetime(2026, 11, 26, 4, 0, 0, tzinfo=UTC)


def make_url(signed_at: datetime = NOW, *, host: str = HOST, access_key_id: str = "AKIAEXAMPLEKEY000001") -> str:
    """A presigned URL of the right shape whose signature is 64 hex digits of nothing."""
    region = "us-east-1" if host == "sts.amazonaws.com" else host.split(".")[1]
    date = signed_at.strftime("%Y%m%dT%H%M%SZ")
    query = (
        "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={access_key_id}%2F{date[:8]}%2F{region}%2Fsts%2Faws4_request"
        f"&X-Amz-Date={date}&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"
        "&X-Amz-Signature=" + "ab" * 32
    )
    return f"https://{host}/?{query}"


def make_token(signed_at: datetime = NOW, **kwargs: str) -> str:
    return encode(make_url(signed_at, **kwargs))


# -- tokens for the moto STS peer -------------------------------------------------------------------


def presigned_request(signed_at: datetime = NOW, key: str = "AKIAEXAMPLEKEY000001") -> PresignedRequest:
    """``make_token``'s token as the verifier parses it (aws partition), signed at ``signed_at``."""
    from authenticator.partitions import get_partition

    return parse_token(make_token(signed_at, access_key_id=key), now=signed_at, partition=get_partition("aws"))


class Clock:
    """A clock a test sets: ``clock.now`` is what calling it answers."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def botocore_url(
    access_key_id: str,
    secret: str,
    session_token: str | None = None,
    *,
    cluster_id: str,
    host: str = HOST,
    region: str = REGION,
    signed_at: datetime | None = None,
) -> str:
    """The presigned GetCallerIdentity URL of an EKS token (docs/token.md §1), made by botocore's
    signer, signed now or at ``signed_at``."""
    from unittest import mock

    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(
        method="GET",
        url=f"https://{host}/?Action=GetCallerIdentity&Version=2011-06-15",
        headers={"x-k8s-aws-id": cluster_id},
    )
    signer = SigV4QueryAuth(Credentials(access_key_id, secret, session_token), "sts", region, expires=60)
    if signed_at is None:
        signer.add_auth(request)
    else:
        naive = signed_at.astimezone(UTC).replace(tzinfo=None)
        with mock.patch("botocore.auth.get_current_datetime", lambda *a, **k: naive):
            signer.add_auth(request)
    return str(request.url)


def botocore_token(
    access_key_id: str, secret: str, session_token: str | None = None, *, cluster_id: str, host: str = HOST
) -> str:
    return encode(botocore_url(access_key_id, secret, session_token, cluster_id=cluster_id, host=host))


class CountingParse:
    """``parse_token`` that counts its calls: shows when a review skipped parsing (a recall)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, token: str, **kwargs: object) -> PresignedRequest:
        self.calls += 1
        return parse_token(token, **kwargs)  # type: ignore[arg-type]
