"""The ``--cache`` files (exec-plugin.md "Caching"), stdlib only.

Two kinds of entries live in one private directory:

- ``token-<key>.json``: a token, reused while it has ≥ 60 s of its 14 minutes left
  and never past the expiry of the credentials that signed it;
- ``creds-<key>.json``: temporary credentials that came from AssumeRole (``--role``,
  a profile's ``role_arn``, MFA), SSO, web identity or a process — never long-term
  keys — reused while ``CREDS_MARGIN`` of their life is left, so that a fresh token
  can be signed without botocore, AssumeRole or an MFA prompt.

Each entry carries the key material it was written for; an entry whose material
differs from the caller's (a foreign entry) is ignored. Writes go to a temporary
file in the same directory and are renamed into place, so concurrent kubectl
runs leave either the old or the new entry, never a torn one.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from client_plugin._record import Record
from client_plugin.errors import PluginError

try:  # CPython's built-in SHA-256 spares loading OpenSSL (~10 ms) on the cache-hit path.
    from _sha2 import sha256  # type: ignore[import-not-found]  # 3.12+
except ImportError:
    try:
        from _sha256 import sha256  # type: ignore[import-not-found,no-redef]  # 3.11
    except ImportError:
        from hashlib import sha256  # type: ignore[assignment]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO

__all__ = [
    "CACHE_DIR_ENV",
    "CREDS_MARGIN",
    "TOKEN_MARGIN",
    "CachedCredentials",
    "CachedToken",
    "FileCache",
    "default_cache_dir",
    "key_digest",
]

CACHE_DIR_ENV = "EKS_IAM_AUTHENTICATOR_CACHE_DIR"
TOKEN_MARGIN = timedelta(seconds=60)
# A token signed from cached credentials lives 14 minutes; keep the credentials
# only while they outlive such a token, so kubectl never holds a token whose
# session has ended.
CREDS_MARGIN = timedelta(minutes=15)
# An entry signed "in the future" means the clock moved back: do not trust it.
_CLOCK_SKEW = timedelta(minutes=5)
_FORMAT_VERSION = 1


def default_cache_dir(env: Mapping[str, str]) -> str:
    configured = env.get(CACHE_DIR_ENV)
    if configured:
        return configured
    return os.path.join(os.path.expanduser("~"), ".kube", "cache", "eks-iam-authenticator")


def key_digest(material: Mapping[str, Any]) -> str:
    """File-name-safe digest of the key material (which never holds a secret)."""
    return sha256(json.dumps(material, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    # fromisoformat, not strptime: _strptime costs ~4 ms of start-up.
    if len(text) != 20 or not text.endswith("Z"):
        return None
    try:
        parsed = datetime.fromisoformat(text[:-1])
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else None


class CachedToken(Record):
    _fields = ("token", "signed_at", "expires_at", "credentials_expire_at")
    __slots__ = _fields
    _hidden = ("token",)
    token: str
    signed_at: datetime
    expires_at: datetime  # what kubectl is told: signed_at + 14 min
    credentials_expire_at: datetime | None  # None: long-term keys

    def usable(self, now: datetime) -> bool:
        if self.signed_at > now + _CLOCK_SKEW:
            return False
        if now + TOKEN_MARGIN > self.expires_at:
            return False
        return self.credentials_expire_at is None or now + TOKEN_MARGIN <= self.credentials_expire_at


class CachedCredentials(Record):
    _fields = (
        "access_key_id",
        "secret_access_key",
        "session_token",
        "expires_at",
        "region",
        "host",
        "signing_region",
    )
    __slots__ = _fields
    _hidden = ("secret_access_key", "session_token")
    access_key_id: str
    secret_access_key: str
    session_token: str | None
    expires_at: datetime | None  # None: long-term keys (never stored)
    region: str  # the region, host and signing region these were resolved with
    host: str
    signing_region: str

    def usable(self, now: datetime) -> bool:
        return self.expires_at is not None and now + CREDS_MARGIN <= self.expires_at


class FileCache:
    """One cache directory; ``stderr`` receives the warnings."""

    def __init__(self, directory: str, *, stderr: TextIO | None = None) -> None:
        self.directory = directory
        self._stderr = stderr if stderr is not None else sys.stderr
        self._disabled = False

    # -- tokens --------------------------------------------------------------

    def load_token(self, material: Mapping[str, Any], now: datetime) -> CachedToken | None:
        entry = self._load("token", material)
        if entry is None:
            return None
        signed_at = _parse_iso(entry.get("signed_at"))
        expires_at = _parse_iso(entry.get("expires_at"))
        token = entry.get("token")
        creds_expiry_raw = entry.get("credentials_expire_at")
        creds_expiry = _parse_iso(creds_expiry_raw)
        if signed_at is None or expires_at is None or not isinstance(token, str):
            return None
        if creds_expiry_raw is not None and creds_expiry is None:
            return None
        cached = CachedToken(token, signed_at, expires_at, creds_expiry)
        return cached if cached.usable(now) else None

    def store_token(self, material: Mapping[str, Any], token: CachedToken) -> None:
        self._store(
            "token",
            material,
            {
                "token": token.token,
                "signed_at": _iso(token.signed_at),
                "expires_at": _iso(token.expires_at),
                "credentials_expire_at": _iso(token.credentials_expire_at) if token.credentials_expire_at else None,
            },
        )

    # -- temporary credentials -----------------------------------------------

    def load_credentials(self, material: Mapping[str, Any], now: datetime) -> CachedCredentials | None:
        entry = self._load("creds", material)
        if entry is None:
            return None
        try:
            cached = CachedCredentials(
                access_key_id=_str(entry["access_key_id"]),
                secret_access_key=_str(entry["secret_access_key"]),
                session_token=_str(entry["session_token"]) if entry.get("session_token") is not None else None,
                expires_at=_required_time(entry["expires_at"]),
                region=_str(entry["region"]),
                host=_str(entry["host"]),
                signing_region=_str(entry["signing_region"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return cached if cached.usable(now) else None

    def store_credentials(self, material: Mapping[str, Any], creds: CachedCredentials) -> None:
        self._store(
            "creds",
            material,
            {
                "access_key_id": creds.access_key_id,
                "secret_access_key": creds.secret_access_key,
                "session_token": creds.session_token,
                "expires_at": _iso(creds.expires_at) if creds.expires_at else None,
                "region": creds.region,
                "host": creds.host,
                "signing_region": creds.signing_region,
            },
        )

    # -- a dict-like view for botocore's credential providers -----------------

    def botocore_view(self) -> BotocoreCache:
        return BotocoreCache(self)

    # -- files ---------------------------------------------------------------

    def path_for(self, kind: str, material: Mapping[str, Any]) -> str:
        return os.path.join(self.directory, f"{kind}-{key_digest(material)}.json")

    def _warn(self, message: str) -> None:
        self._stderr.write(f"eks-iam-authenticator: warning: {message}\n")

    def _directory_ok(self) -> bool:
        """False (and a warning, once) when the directory is not ours alone."""
        if self._disabled:
            return False
        try:
            st = os.stat(self.directory)
        except FileNotFoundError:
            return True
        except OSError as exc:
            raise PluginError(f"cannot read cache directory {self.directory}: {exc.strerror}") from None
        if not stat.S_ISDIR(st.st_mode):
            return self._disable(f"cache path {self.directory} is not a directory; not using the cache")
        if st.st_uid != os.geteuid() or st.st_mode & 0o077:
            return self._disable(
                f"cache directory {self.directory} is accessible by other users "
                f"(mode {stat.S_IMODE(st.st_mode):04o}); not using the cache"
            )
        return True

    def _disable(self, message: str) -> bool:
        self._warn(message)
        self._disabled = True
        return False

    def _read_json(self, path: str) -> dict[str, Any] | None:
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise PluginError(f"cannot read cache file {path}: {exc.strerror}") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise PluginError(f"cannot read cache file {path}: not a regular file")
            if st.st_uid != os.geteuid() or st.st_mode & 0o077:
                self._warn(
                    f"cache file {path} is readable by other users (mode {stat.S_IMODE(st.st_mode):04o}); ignoring it"
                )
                return None
            chunks = []
            while chunk := os.read(fd, 65536):
                chunks.append(chunk)
        except OSError as exc:
            raise PluginError(f"cannot read cache file {path}: {exc.strerror}") from None
        finally:
            os.close(fd)
        try:
            data = json.loads(b"".join(chunks))
        except ValueError:
            self._warn(f"cache file {path} is not valid JSON; ignoring it")
            return None
        return data if isinstance(data, dict) else None

    def _load(self, kind: str, material: Mapping[str, Any]) -> dict[str, Any] | None:
        if not self._directory_ok():
            return None
        entry = self._read_json(self.path_for(kind, material))
        if entry is None or entry.get("version") != _FORMAT_VERSION or entry.get("kind") != kind:
            return None
        # A file copied or renamed from another key is foreign: never use it.
        if entry.get("key") != json.loads(json.dumps(dict(material))):
            return None
        return entry

    def _store(self, kind: str, material: Mapping[str, Any], body: dict[str, Any]) -> None:
        document = {"version": _FORMAT_VERSION, "kind": kind, "key": material, **body}
        self.write_json(self.path_for(kind, material), document)

    def write_json(self, path: str, document: Mapping[str, Any]) -> None:
        """Write atomically with mode 0600; a failure is a warning, not an error."""
        if not self._directory_ok():
            return
        try:
            import tempfile  # only writers pay for it

            self._ensure_directory()
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(document, handle, separators=(",", ":"), default=_json_default)
                os.replace(tmp, path)
            except BaseException:
                try:  # noqa: SIM105 - contextlib is not imported on the fast path
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError as exc:
            self._warn(f"cannot write cache file in {self.directory}: {exc.strerror or exc}")

    def _ensure_directory(self) -> None:
        parent = os.path.dirname(self.directory.rstrip(os.sep))
        if parent:
            os.makedirs(parent, exist_ok=True)
        try:  # noqa: SIM105
            os.mkdir(self.directory, 0o700)
        except FileExistsError:
            pass


class BotocoreCache:
    """``__getitem__``/``__setitem__``/``__contains__`` over JSON files, the shape
    botocore's assume-role, web-identity and SSO providers accept as ``cache``."""

    def __init__(self, cache: FileCache) -> None:
        self._cache = cache

    def _path(self, key: str) -> str:
        return os.path.join(self._cache.directory, f"botocore-{sha256(key.encode()).hexdigest()}.json")

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._get(key) is not None

    def __getitem__(self, key: str) -> Any:
        value = self._get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self._cache.write_json(self._path(key), {"version": _FORMAT_VERSION, "kind": "botocore", "value": value})

    def _get(self, key: str) -> Any:
        if not self._cache._directory_ok():
            return None
        entry = self._cache._read_json(self._path(key))
        if entry is None or entry.get("kind") != "botocore":
            return None
        return entry.get("value")


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in the cache")


def _str(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError("expected a non-empty string")
    return value


def _required_time(value: object) -> datetime:
    parsed = _parse_iso(value)
    if parsed is None:
        raise ValueError("bad timestamp")
    return parsed
