"""Local verification of a ``k8s-aws-v1.`` token (docs/token.md §3 and §4).

``parse_token`` is pure: it decodes the token, applies every local rule in the
order of docs/token.md §3 and returns the presigned request that may be sent to STS.
Nothing here does I/O, so a rejected token can never reach STS.

Reasons are short and safe to log: they may quote a host, a parameter name or a
date taken from the token (quoted and truncated), never the URL, the signature or
the security token.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote_plus, unquote_to_bytes

from authenticator.partitions import Partition, sts_host_region

__all__ = [
    "MAX_CLOCK_SKEW",
    "MAX_TOKEN_BYTES",
    "PRESIGN_LIFETIME",
    "TOKEN_PREFIX",
    "PresignedRequest",
    "RejectionKind",
    "TokenRejected",
    "canonical_sha256",
    "parse_token",
    "token_sha256",
]

TOKEN_PREFIX = "k8s-aws-v1."
MAX_TOKEN_BYTES = 4096
# STS honours a presigned GetCallerIdentity URL for 15 minutes after X-Amz-Date,
# whatever X-Amz-Expires says; we also refuse dates further ahead than that.
PRESIGN_LIFETIME = timedelta(minutes=15)
MAX_CLOCK_SKEW = timedelta(minutes=15)

_FORMAT_PREFIX = "input token was not properly formatted: "
_CLUSTER_ID_HEADER = "x-k8s-aws-id"
_GO_DATE_LAYOUT = "20060102T150405Z"  # the reference names the layout this way

_ALLOWED_PARAMS = frozenset(
    {
        "action",
        "version",
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-expires",
        "x-amz-security-token",
        "x-amz-signature",
        "x-amz-signedheaders",
    }
)

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# RFC 3986 query characters. Every SDK's presigner stays within this set, and httpx
# forwards exactly these bytes unchanged (it would re-encode '"', '<', '>').
_QUERY_CHARS = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*")
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]*")
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_DIGITS = re.compile(r"[0-9]{1,10}")
_AMZ_DATE = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_CREDENTIAL = re.compile(
    r"(?P<akid>[A-Za-z0-9]{16,128})/(?P<date>[0-9]{8})/(?P<region>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)/sts/aws4_request"
)
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


class RejectionKind(enum.StrEnum):
    INVALID_TOKEN = "invalid_token"  # a local rule of docs/token.md §3-§4 failed
    STS_ERROR = "sts_error"  # STS said no, or could not be reached / parsed
    STS_THROTTLING = "sts_throttling"  # STS throttled us -> webhook answers 429


class TokenRejected(Exception):
    """Why a token was not accepted; ``reason`` is safe to log and to return."""

    kind: RejectionKind
    reason: str

    def __init__(self, kind: RejectionKind, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PresignedRequest:
    url: str  # the URL to GET, query re-serialised unchanged
    host: str
    region: str  # from the host (sts.amazonaws.com -> us-east-1)
    access_key_id: str  # from X-Amz-Credential, after the duplicate checks
    signed_at: datetime  # X-Amz-Date, tz-aware UTC
    expires_at: datetime  # signed_at + 15 min
    token_sha256: bytes  # of the token it was parsed from: names the token without holding it
    canonical_sha256: bytes  # of the signed request, whatever its spelling: see canonical_sha256()

    def __repr__(self) -> str:
        # The URL is a bearer credential for 15 minutes: keep it out of reprs and logs.
        return (
            f"PresignedRequest(host={self.host!r}, region={self.region!r}, "
            f"access_key_id={self.access_key_id!r}, signed_at={self.signed_at.isoformat()})"
        )


def token_sha256(token: str) -> bytes:
    """The SHA-256 of the token's text: what the verification cache keys on (32 bytes, not a
    credential)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def canonical_sha256(host: str, query: str) -> bytes:
    """The SHA-256 of a presigned request in canonical form: its host (lower case), its path ("/",
    the only one rule 7 lets through) and its query parameters decoded as ``parse_token`` decodes
    them (form-style, '+' is a space), names lower-cased, sorted. Every spelling the local rules
    accept of one signed request (query order, percent-encoding and its case, '+' or '%20', the
    case of a name) has the same canonical form, so the verification cache and its coalescing see
    one request, not thousands. What SigV4 signs (the host, the path, every value, the signature
    itself) stays in it: only whoever holds the token can spell a request with this key, and
    what a key stands for (the signer, X-Amz-Date) is the same for every spelling.

    ``query`` is the raw query of a URL that passed the local rules. Bytes, length-prefixed: a
    value that is not UTF-8, or holds '&' or '=', cannot make two requests look alike."""
    pairs = []
    for segment in query.split("&") if query else ():
        raw_key, _, raw_value = segment.partition("=")
        pairs.append(
            (unquote_to_bytes(raw_key.replace("+", " ")).lower(), unquote_to_bytes(raw_value.replace("+", " ")))
        )
    pairs.sort()
    digest = hashlib.sha256()
    for part in (host.lower().encode("ascii"), b"/", *(p for pair in pairs for p in pair)):
        digest.update(len(part).to_bytes(4, "big"))
        digest.update(part)
    return digest.digest()


def _reject(reason: str) -> TokenRejected:
    return TokenRejected(RejectionKind.INVALID_TOKEN, _FORMAT_PREFIX + reason)


def _quote(text: str, limit: int = 64) -> str:
    """Go's %q, roughly: a double-quoted, escaped and truncated rendering."""
    if len(text) > limit:
        text = text[:limit] + "..."
    escaped = text.replace("\\", "\\\\").encode("ascii", "backslashreplace").decode("ascii")
    escaped = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in escaped)
    return '"' + escaped.replace('"', '\\"') + '"'


def _decode_base64url(data: str) -> bytes:
    """Strict unpadded base64url: alphabet ``A-Za-z0-9-_`` only, canonical trailing bits."""
    match = _BASE64URL.match(data)
    assert match is not None  # the pattern matches the empty prefix
    if match.end() != len(data):
        raise _reject(f"illegal base64 data at input byte {match.end()}")
    if len(data) % 4 == 1:
        raise _reject(f"illegal base64 data at input byte {len(data) - 1}")
    decoded = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    # Non-zero padding bits would let two token strings stand for one URL.
    if base64.urlsafe_b64encode(decoded).rstrip(b"=").decode("ascii") != data:
        raise _reject(f"illegal base64 data at input byte {len(data) - 1}")
    return decoded


def _parse_query(query: str) -> dict[str, list[str]]:
    """Split on ``&`` only (rule 8); keys keep their first-appearance order."""
    params: dict[str, list[str]] = {}
    if query == "":
        return params
    if ";" in query or _PERCENT.search(query) or not _QUERY_CHARS.fullmatch(query):
        raise _reject("malformed query parameter")
    for segment in query.split("&"):
        raw_key, _, raw_value = segment.partition("=")
        # Form-style ('+' is a space); a value that is not UTF-8 can only be garbage: kept comparable
        # but harmless. The caller has already rejected bad escapes.
        key = unquote_plus(raw_key, errors="replace")
        if key == "":
            raise _reject("malformed query parameter")
        params.setdefault(key, []).append(unquote_plus(raw_value, errors="replace"))
    return params


def _split_url(url: str, partition: Partition) -> tuple[str, str, str]:
    """Rules 4-7: returns (host, region, raw query)."""
    # Rule 4. Visible ASCII only: no spaces, control characters (CR/LF) or bytes >= 0x80.
    if not _VISIBLE_ASCII.fullmatch(url):
        raise _reject("parse error: invalid character in URL")
    scheme_match = _SCHEME.match(url)
    if scheme_match is None:
        raise _reject("parse error: missing protocol scheme")
    scheme = scheme_match.group(1)
    # Rule 5. Exact: the reference lower-cases the scheme first; no presigner writes "HTTPS".
    if scheme != "https":
        raise _reject(f"unexpected scheme {_quote(scheme)} in pre-signed URL")
    rest = url[scheme_match.end() :]
    # Rule 6: an authority, with no userinfo, port or fragment, naming an STS host.
    if not rest.startswith("//"):
        raise _reject(f"unexpected hostname {_quote('')} in pre-signed URL")
    rest = rest[2:]
    end = len(rest)
    for stop in "/?#":
        pos = rest.find(stop)
        if pos != -1:
            end = min(end, pos)
    host, rest = rest[:end], rest[end:]
    if "@" in host or ":" in host or "#" in rest:
        raise _reject(f"unexpected hostname {_quote(host)} in pre-signed URL")
    region = sts_host_region(host, partition)
    if region is None:
        raise _reject(f"unexpected hostname {_quote(host)} in pre-signed URL")
    # Rule 7.
    path, _, query = rest.partition("?")
    if path != "/":
        raise _reject("unexpected path in pre-signed URL")
    return host, region, query


def _parse_amz_date(value: str) -> datetime:
    if _AMZ_DATE.fullmatch(value):
        try:
            # Field by field rather than strptime, which costs as much as the rest of parse_token.
            return datetime(
                int(value[0:4]),
                int(value[4:6]),
                int(value[6:8]),
                int(value[9:11]),
                int(value[11:13]),
                int(value[13:15]),
                tzinfo=UTC,
            )
        except ValueError:  # a day or hour that does not exist
            pass
    raise _reject(f"error parsing X-Amz-Date parameter {_quote(value)} into format {_GO_DATE_LAYOUT}")


def parse_token(token: str, *, now: datetime, partition: Partition) -> PresignedRequest:
    """Apply docs/token.md §3 rules 1-19 (and ours after them) in order.

    Raises ``TokenRejected(RejectionKind.INVALID_TOKEN, reason)``; ``now`` must be tz-aware.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    # Rule 1, before anything else looks at the input.
    raw = token.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_TOKEN_BYTES:
        raise _reject("token is too large")
    # Rule 2.
    if not token.startswith(TOKEN_PREFIX):
        raise _reject(f'token is missing expected "{TOKEN_PREFIX}" prefix')
    # Rule 3. Checked as text first so non-ASCII never reaches the decoder.
    decoded = _decode_base64url(token[len(TOKEN_PREFIX) :])
    try:
        url = decoded.decode("ascii")
    except UnicodeDecodeError:
        raise _reject("parse error: invalid character in URL") from None

    host, region, query = _split_url(url, partition)

    # Rules 8-11: parse, then check duplicates (CVE-2022-2385), allow-list, one value each.
    params = _parse_query(query)
    lowered = {key: key.lower() for key in params}
    seen: set[str] = set()
    for key, low in lowered.items():
        if low in seen:
            raise _reject(f"duplicate query parameter found: {_quote(key)}")
        seen.add(low)
    for key, low in lowered.items():
        if low not in _ALLOWED_PARAMS:
            raise _reject(f"non-whitelisted query parameter {_quote(key)}")
    for values in params.values():
        if len(values) != 1:
            raise _reject("query parameter with multiple values not supported")
    lower = {lowered[key]: values[0] for key, values in params.items()}

    # Rule 12.
    if lower.get("action") != "GetCallerIdentity":
        raise _reject("unexpected action parameter in pre-signed URL")
    # Rule 13 (ours).
    if "version" in lower and lower["version"] != "2011-06-15":
        raise _reject("unexpected version parameter in pre-signed URL")
    # Rule 14.
    signed = [h.lower() for h in lower.get("x-amz-signedheaders", "").split(";")]
    if _CLUSTER_ID_HEADER not in signed:
        raise _reject(f"client did not sign the {_CLUSTER_ID_HEADER} header in the pre-signed URL")
    # Rule 15: digits only (no sign, no spaces), 0..900.
    expires = lower.get("x-amz-expires", "")
    if not _DIGITS.fullmatch(expires) or int(expires) > 900:
        raise _reject(f"invalid X-Amz-Expires parameter in pre-signed URL: {_quote(expires)}")
    # Rule 16.
    if lower.get("x-amz-date", "") == "":
        raise _reject("X-Amz-Date parameter must be present in pre-signed URL")
    signed_at = _parse_amz_date(lower["x-amz-date"])
    expires_at = signed_at + PRESIGN_LIFETIME
    # Rule 17.
    if now > expires_at:
        stamp = signed_at.strftime("%Y-%m-%d %H:%M:%S +0000 UTC")
        raise _reject(f"X-Amz-Date parameter is expired (15 minute expiration) {stamp}")
    # Rule 18 (ours, STS's own skew limit).
    if signed_at > now + MAX_CLOCK_SKEW:
        raise _reject("X-Amz-Date parameter is in the future (more than 15 minutes ahead)")
    # Rule 19, plus ours: the scope must agree with the host's region and X-Amz-Date's day.
    credential = lower.get("x-amz-credential")
    if credential is None:
        raise _reject("X-Amz-Credential parameter must be present in pre-signed URL")
    scope = _CREDENTIAL.fullmatch(credential)
    if scope is None:
        raise _reject("malformed X-Amz-Credential parameter in pre-signed URL")
    if scope["region"] != region:
        raise _reject(
            f"X-Amz-Credential region {_quote(scope['region'])} does not match the region of host {_quote(host)}"
        )
    if scope["date"] != lower["x-amz-date"][:8]:
        raise _reject("X-Amz-Credential date does not match X-Amz-Date")
    # Ours: a SigV4 query signature must be there to be checked at all.
    if lower.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
        raise _reject("unexpected X-Amz-Algorithm parameter in pre-signed URL")
    if not _SIGNATURE.fullmatch(lower.get("x-amz-signature", "")):
        raise _reject("missing or malformed X-Amz-Signature parameter in pre-signed URL")

    return PresignedRequest(
        url=url,
        host=host,
        region=region,
        access_key_id=scope["akid"],
        signed_at=signed_at,
        expires_at=expires_at,
        token_sha256=hashlib.sha256(raw).digest(),  # token_sha256(token), the bytes already encoded
        canonical_sha256=canonical_sha256(host, query),
    )
