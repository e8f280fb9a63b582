"""The ``--cache`` files (docs/exec-plugin.md "Caching"), stdlib only.

Three kinds of entries live in one private directory:

- ``token-<key>.txt``: a token, reused while it has ≥ 60 s left before the expiry kubectl
  was told (client_plugin.expiry: its 14 minutes, cut short by the end of the credentials
  that signed it);
- ``creds-<key>.json``: temporary credentials that came from AssumeRole (``--role``,
  a profile's ``role_arn``, MFA), SSO, web identity or a process — never long-term
  keys — reused while ``CREDS_MARGIN`` of their life is left, so that a fresh token
  can be signed without botocore, AssumeRole or an MFA prompt;
- ``botocore-<key>.json``: what botocore's assume-role, web-identity and SSO providers cache.

The directory may sit where other users can reach (a shared machine, a cache path in a
shared place): it is opened without following a link, and its owner and mode are checked
on the descriptor actually opened, which every entry is then opened and renamed relative
to. Entries are opened without following a link and without blocking (a FIFO), and only
a regular file of ours that no one else can read is used. Each entry — tokens, credentials and botocore's own —
records the key it was written for, and one whose key differs (a foreign entry) is
ignored. Anything odd is skipped with one warning line, never an error. Writes go to a
temporary file in the same directory and are renamed into place, so concurrent kubectl
runs leave either the old or the new entry, never a torn one.

A cache hit runs on every kubectl command, so the token entry is a few ``name value``
lines with times in epoch seconds: reading it needs neither ``json`` nor ``datetime``
(together ~6 ms of start-up). The credentials entry is read only on a token miss
and stays JSON.
"""

from __future__ import annotations

import os
import stat
import sys

from client_plugin._record import Record
from client_plugin.expiry import token_expiry

# CPython's built-in SHA-256 spares loading OpenSSL (~10 ms) on the cache-hit path.
if sys.version_info >= (3, 12):
    try:
        from _sha2 import sha256  # type: ignore[import-not-found]
    except ImportError:
        from hashlib import sha256
else:
    try:
        from _sha256 import sha256  # type: ignore[import-not-found]
    except ImportError:
        from hashlib import sha256

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, TextIO

__all__ = [
    "CACHE_DIR_ENV",
    "CREDS_MARGIN",
    "TOKEN_MARGIN",
    "CachedCredentials",
    "CachedToken",
    "FileCache",
    "canonical_key",
    "default_cache_dir",
]

CACHE_DIR_ENV = "EKS_IAM_AUTHENTICATOR_CACHE_DIR"
# All times here are epoch seconds.
TOKEN_MARGIN = 60
# A token signed from cached credentials lives 14 minutes; keep the credentials
# only while they outlive such a token, so kubectl never holds a token whose
# session has ended.
CREDS_MARGIN = 15 * 60
# An entry signed "in the future" means the clock moved back: do not trust it.
_CLOCK_SKEW = 5 * 60
_FORMAT_VERSION = 2
_TOKEN_HEADER = f"eks-iam-authenticator token {_FORMAT_VERSION}"
_TOKEN_LINES = ("key", "token", "signed_at", "expires_at", "credentials_expire_at")
_SUFFIX = {"token": ".txt", "creds": ".json", "botocore": ".json"}
# Never follow a link at the directory's or an entry's own name; a FIFO must not block the open.
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_ENTRY_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_ENTRY_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def default_cache_dir(env: Mapping[str, str]) -> str:
    configured = env.get(CACHE_DIR_ENV)
    if configured:
        return configured
    return os.path.join(os.path.expanduser("~"), ".kube", "cache", "eks-iam-authenticator")


def canonical_key(material: object) -> str:
    """One line, equal for equal key material and different otherwise.

    Keys are sorted; strings, numbers, booleans and None are written by ``repr``
    (which is unambiguous and escapes every line break), dicts and lists by structure.
    """
    if isinstance(material, dict):
        return "{" + ",".join(f"{name!r}:{canonical_key(material[name])}" for name in sorted(material)) + "}"
    if isinstance(material, list | tuple):
        return "[" + ",".join(canonical_key(item) for item in material) + "]"
    if material is None or isinstance(material, str | int | float):
        return repr(material)
    raise TypeError(f"cannot use {type(material).__name__} in a cache key")


def _epoch(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None


class CachedToken(Record):
    _fields = ("token", "signed_at", "expires_at", "credentials_expire_at")
    __slots__ = _fields
    _hidden = ("token",)
    token: str
    signed_at: int  # epoch seconds
    expires_at: int  # what kubectl was told: client_plugin.expiry.token_expiry
    credentials_expire_at: int | None  # None: long-term keys

    def expiry(self) -> int:
        """The instant kubectl is told, recomputed from the entry's own times: an entry written
        with a later ``expires_at`` (by an older version, or by hand) cannot outlive its credentials."""
        return min(self.expires_at, token_expiry(self.signed_at, self.credentials_expire_at))

    def usable(self, now: float) -> bool:
        if self.signed_at > now + _CLOCK_SKEW:
            return False
        return now + TOKEN_MARGIN <= self.expiry()


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
    expires_at: int | None  # epoch seconds; None: long-term keys (never stored)
    region: str  # the region, host and signing region these were resolved with
    host: str
    signing_region: str

    def usable(self, now: float) -> bool:
        return self.expires_at is not None and now + CREDS_MARGIN <= self.expires_at


class FileCache:
    """One cache directory; ``stderr`` receives the warnings; ``uid`` is who must own it (the
    effective user, who owns what this process creates)."""

    def __init__(self, directory: str, *, stderr: TextIO | None = None, uid: int | None = None) -> None:
        self.directory = directory
        self._stderr = stderr if stderr is not None else sys.stderr
        self._uid = os.geteuid() if uid is None else uid
        self._disabled = False
        self._warned: set[str] = set()

    # -- tokens: the cache-hit path ------------------------------------------

    def load_token(self, material: Mapping[str, Any], now: float) -> CachedToken | None:
        key = canonical_key(material)  # once: it names the file and must match the file's own key
        name = self._file("token", key)
        data = self._read(name)
        if data is None:
            return None
        fields = _parse_token_entry(data)
        if fields is None:
            self._warn(f"cache file {self._path(name)} is not a valid cache entry; ignoring it")
            return None
        their_key, token, signed_at, expires_at, creds_expiry = fields
        # A file copied or renamed from another key is foreign: never use it.
        if their_key != key:
            self._foreign(name)
            return None
        cached = CachedToken(token, signed_at, expires_at, creds_expiry)
        return cached if cached.usable(now) else None

    def store_token(self, material: Mapping[str, Any], token: CachedToken) -> None:
        if not token.token or "\n" in token.token:
            return  # cannot be one line of the entry (never the case for a signed token)
        creds_expiry = token.credentials_expire_at
        key = canonical_key(material)
        lines = (
            _TOKEN_HEADER,
            f"key {key}",
            f"token {token.token}",
            f"signed_at {int(token.signed_at)}",
            f"expires_at {int(token.expires_at)}",
            # Truncating an expiry only moves it earlier: never past the credentials.
            f"credentials_expire_at {'-' if creds_expiry is None else int(creds_expiry)}",
        )
        self._write(self._file("token", key), "\n".join(lines) + "\n")

    # -- temporary credentials -----------------------------------------------

    def load_credentials(self, material: Mapping[str, Any], now: float) -> CachedCredentials | None:
        key = canonical_key(material)
        entry = self._read_entry("creds", key)
        if entry is None:
            return None
        try:
            cached = CachedCredentials(
                access_key_id=_str(entry["access_key_id"]),
                secret_access_key=_str(entry["secret_access_key"]),
                session_token=_str(entry["session_token"]) if entry.get("session_token") is not None else None,
                expires_at=_int(entry["expires_at"]),
                region=_str(entry["region"]),
                host=_str(entry["host"]),
                signing_region=_str(entry["signing_region"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return cached if cached.usable(now) else None

    def store_credentials(self, material: Mapping[str, Any], creds: CachedCredentials) -> None:
        key = canonical_key(material)
        document = {
            "access_key_id": creds.access_key_id,
            "secret_access_key": creds.secret_access_key,
            "session_token": creds.session_token,
            "expires_at": None if creds.expires_at is None else int(creds.expires_at),
            "region": creds.region,
            "host": creds.host,
            "signing_region": creds.signing_region,
        }
        self._write_entry("creds", key, document)

    # -- a dict-like view for botocore's credential providers -----------------

    def botocore_view(self) -> BotocoreCache:
        return BotocoreCache(self)

    # -- entries: JSON bound to their key ------------------------------------

    def _read_entry(self, kind: str, key: str) -> dict[str, Any] | None:
        """The JSON entry of ``kind`` for ``key``, when it was written for that key."""
        name = self._file(kind, key)
        data = self._read(name)
        if data is None:
            return None
        import json  # not on the cache-hit path

        try:
            entry = json.loads(data)
        except ValueError:
            self._warn(f"cache file {self._path(name)} is not valid JSON; ignoring it")
            return None
        if not isinstance(entry, dict) or entry.get("version") != _FORMAT_VERSION or entry.get("kind") != kind:
            self._warn(f"cache file {self._path(name)} is not a valid cache entry; ignoring it")
            return None
        # The file name is only a digest of the key: an entry renamed from another key (or one
        # that records none) must not be taken for this one.
        if entry.get("key") != key:
            self._foreign(name)
            return None
        return entry

    def _write_entry(self, kind: str, key: str, fields: Mapping[str, Any]) -> None:
        import json  # only writers pay for it

        document = {"version": _FORMAT_VERSION, "kind": kind, "key": key, **fields}
        self._write(self._file(kind, key), json.dumps(document, separators=(",", ":"), default=_json_default))

    # -- files ---------------------------------------------------------------

    def _file(self, kind: str, key: str) -> str:
        """The entry file name of ``kind`` for a key: its digest names the file (the key never holds a secret)."""
        return f"{kind}-{sha256(key.encode()).hexdigest()}{_SUFFIX[kind]}"

    def _path(self, name: str) -> str:
        return os.path.join(self.directory, name)

    def _warn(self, message: str) -> None:
        if message not in self._warned:  # one line per problem, however often it is met
            self._warned.add(message)
            self._stderr.write(f"eks-iam-authenticator: warning: {message}\n")

    def _foreign(self, name: str) -> None:
        self._warn(f"cache file {self._path(name)} was not written for this key; ignoring it")

    def _disable(self, message: str) -> None:
        self._warn(message + "; not using the cache")
        self._disabled = True

    def _open_directory(self, *, create: bool) -> int | None:
        """A descriptor of the cache directory, or None: absent (and ``create`` false), or not ours
        alone (a warning, and the cache is off for this run).

        The checks are made with ``fstat`` on the descriptor opened without following a link, and
        every entry is opened relative to it: what is checked is what is used, whatever is renamed
        or created in between."""
        if self._disabled:
            return None
        directory = self.directory.rstrip(os.sep) or os.sep  # "link/" would follow the link
        try:
            fd = os.open(directory, _DIRECTORY_FLAGS)
        except FileNotFoundError:
            if not create or not self._make_directory(directory):
                return None
            try:
                fd = os.open(directory, _DIRECTORY_FLAGS)
            except OSError as exc:
                self._disable(f"cannot open cache directory {self.directory} ({exc.strerror})")
                return None
        except OSError as exc:  # ELOOP: a symlink; ENOTDIR: not a directory; EACCES
            self._disable(f"cache path {self.directory} is not a directory that can be opened ({exc.strerror})")
            return None
        try:
            st = os.fstat(fd)
        except OSError as exc:
            os.close(fd)
            self._disable(f"cannot read cache directory {self.directory} ({exc.strerror})")
            return None
        if st.st_uid != self._uid:
            os.close(fd)
            self._disable(f"cache directory {self.directory} is owned by another user (uid {st.st_uid})")
            return None
        if st.st_mode & 0o077:
            os.close(fd)
            self._disable(
                f"cache directory {self.directory} is accessible by other users (mode {stat.S_IMODE(st.st_mode):04o})"
            )
            return None
        return fd

    def _make_directory(self, directory: str) -> bool:
        """Create the directory 0700; whoever wins a race, the caller checks what it then opens."""
        try:
            parent = os.path.dirname(directory)
            if parent:
                os.makedirs(parent, exist_ok=True)
            try:  # noqa: SIM105 - contextlib is not imported on the fast path
                os.mkdir(directory, 0o700)
            except FileExistsError:
                pass  # created in between: the caller checks its owner and mode on what it opens
        except OSError as exc:
            self._warn(f"cannot create cache directory {self.directory}: {exc.strerror or exc}")
            return False
        return True

    def _read(self, name: str) -> bytes | None:
        """The entry's bytes; None when absent or (with a warning) not a private regular file of ours."""
        dir_fd = self._open_directory(create=False)
        if dir_fd is None:
            return None
        path = self._path(name)
        try:
            # No link is followed, and a FIFO opens at once (then is refused as not a regular file).
            fd = os.open(name, _ENTRY_READ_FLAGS, dir_fd=dir_fd)
        except FileNotFoundError:
            return None
        except OSError as exc:  # ELOOP: a symlink
            self._warn(f"cannot open cache file {path} ({exc.strerror}); ignoring it")
            return None
        finally:
            os.close(dir_fd)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                self._warn(f"cache file {path} is not a regular file; ignoring it")
                return None
            if st.st_uid != self._uid:
                self._warn(f"cache file {path} is owned by another user (uid {st.st_uid}); ignoring it")
                return None
            if st.st_mode & 0o077:
                self._warn(
                    f"cache file {path} is readable by other users (mode {stat.S_IMODE(st.st_mode):04o}); ignoring it"
                )
                return None
            chunks = []
            while chunk := os.read(fd, 65536):
                chunks.append(chunk)
        except OSError as exc:
            self._warn(f"cannot read cache file {path} ({exc.strerror}); ignoring it")
            return None
        finally:
            os.close(fd)
        return b"".join(chunks)

    def _write(self, name: str, text: str) -> None:
        """Write atomically with mode 0600 (a temporary file renamed into place, both relative to the
        checked directory); a failure is a warning, not an error."""
        dir_fd = self._open_directory(create=True)
        if dir_fd is None:
            return
        tmp = f".tmp-{os.urandom(8).hex()}"
        try:
            try:
                fd = os.open(tmp, _ENTRY_CREATE_FLAGS, 0o600, dir_fd=dir_fd)
                with open(fd, "wb") as handle:
                    handle.write(text.encode("utf-8"))
                # Renaming replaces whatever is at the entry's name (a link, a FIFO) without following it.
                os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            except BaseException:
                try:  # noqa: SIM105
                    os.unlink(tmp, dir_fd=dir_fd)
                except OSError:
                    pass
                raise
        except OSError as exc:
            self._warn(f"cannot write cache file in {self.directory}: {exc.strerror or exc}")
        finally:
            os.close(dir_fd)


class BotocoreCache:
    """``__getitem__``/``__setitem__``/``__contains__`` over JSON files, the shape
    botocore's assume-role, web-identity and SSO providers accept as ``cache``.
    Each entry records botocore's key, like the plugin's own entries."""

    def __init__(self, cache: FileCache) -> None:
        self._cache = cache

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._get(key) is not None

    def __getitem__(self, key: str) -> Any:
        value = self._get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self._cache._write_entry("botocore", key, {"value": value})

    def _get(self, key: str) -> Any:
        entry = self._cache._read_entry("botocore", key)
        return None if entry is None else entry.get("value")


def _parse_token_entry(data: bytes) -> tuple[str, str, int, int, int | None] | None:
    """The fields of a token entry, or None when it is not exactly what store_token writes."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.split("\n")
    if len(lines) != len(_TOKEN_LINES) + 2 or lines[0] != _TOKEN_HEADER or lines[-1] != "":
        return None
    values = []
    for expected, line in zip(_TOKEN_LINES, lines[1:-1], strict=True):
        name, _, value = line.partition(" ")
        if name != expected or not value:
            return None
        values.append(value)
    key, token, signed_raw, expires_raw, creds_raw = values
    signed_at, expires_at = _epoch(signed_raw), _epoch(expires_raw)
    creds_expiry = None if creds_raw == "-" else _epoch(creds_raw)
    if signed_at is None or expires_at is None or (creds_raw != "-" and creds_expiry is None):
        return None
    return key, token, signed_at, expires_at, creds_expiry


def _json_default(value: object) -> str:
    from datetime import datetime  # botocore's cached responses hold datetimes

    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in the cache")


def _str(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError("expected a non-empty string")
    return value


def _int(value: object) -> int:
    if type(value) is not int:
        raise TypeError("expected an integer")
    return value
