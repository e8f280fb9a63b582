"""The DynamicFile source: a JSON mapping file, reloaded when it changes (docs/mapping.md §4).

```json
{"version": "1", "lastUpdatedDateTime": "1700000000",
 "mapRoles": [{"rolearn": "...", "username": "...", "groups": ["..."], "userid": "AROA..."}],
 "mapUsers": [{"userarn": "...", "username": "...", "groups": ["..."], "userid": "AIDA..."}],
 "mapAccounts": ["444455556666"]}
```

As the reference: top-level and entry keys match case-insensitively (Go's encoding/json), the
entries are read by the shared aws-auth entry parser, and the file is all or nothing: one entry
without its key (``rolearn``/``userarn``, or ``userid`` in strict mode) rejects the whole file.
An invalid or unreadable file keeps the previous mappings and counts
``dynamicfile_failures_total``; a deleted file empties the source (the reference's
CallBackForFileDeletion), logged as an error.

``userid`` strict mode (``dynamicfileUserIDStrict``): entries are looked up by the STS UserId
instead of the ARN, and an entry that also names an ARN must agree with the caller's canonical
ARN once the IAM path is stripped. Such entries are not in :meth:`snapshot` (which then holds
only ``mapAccounts``), so an ARN alone can never match them; the chain reaches them through
:meth:`DynamicFileSource.lookup`.

The file is polled by stat (mtime, size, inode): portable, no dependency, and testable through
:meth:`check_for_changes` without waiting.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from authenticator import metrics
from authenticator.errors import UserError
from authenticator.identity import Identity
from authenticator.mapping.entries import EntryResult, parse_role_entries, parse_user_entries
from authenticator.mapping.model import MappingSet, RoleMapping, UserMapping
from authenticator.mapping.sources._awsauth_log import KEPT
from authenticator.mapping.sources._poll import GONE, POLL_INTERVAL, Poller, UnreadableFile, WatchedFile
from authenticator.mapping.sources._published import PublishedMappings, SourceStatus
from authenticator.mapping.sources.modes import DYNAMIC_FILE
from authenticator.words import counted

__all__ = ["DynamicFileError", "DynamicFileSource", "e2e_seconds", "parse_dynamic_file", "strip_path"]

FILE_SECTION = "file"

_log = logging.getLogger("authenticator.mapping")


class DynamicFileError(UserError, ValueError):
    """The file is not a valid DynamicFile; the message is one line, safe to log."""


@dataclass(frozen=True, slots=True)
class DynamicFileContent:
    version: str
    last_updated: str
    roles: tuple[RoleMapping, ...]
    users: tuple[UserMapping, ...]
    accounts: tuple[str, ...]


def strip_path(arn: str) -> str:
    """``arn:aws:iam::1:role/a/b/name`` -> ``arn:aws:iam::1:role/name`` (the reference's arn.StripPath)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam":
        return arn
    segments = parts[5].split("/")
    if segments[0] in ("role", "user") and len(segments) > 2:
        parts[5] = f"{segments[0]}/{segments[-1]}"
    return ":".join(parts)


def _fold(obj: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    # Go's encoding/json: a key matches a field case-insensitively; the last one seen wins.
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if isinstance(key, str) and key.lower() in keys:
            out[key.lower()] = value
    return out


def parse_dynamic_file(text: str, *, userid_strict: bool = False) -> DynamicFileContent:
    """Parse and validate a DynamicFile. Raises DynamicFileError (whole file rejected)."""
    try:
        doc = json.loads(text)
    except ValueError as err:
        raise DynamicFileError(f"not valid JSON: {err}") from None
    if not isinstance(doc, dict):
        raise DynamicFileError("not a JSON object")
    fields = _fold(doc, ("version", "lastupdateddatetime", "maproles", "mapusers", "mapaccounts"))
    problems: list[str] = []
    lists: dict[str, list[Any]] = {}
    for key, label in (("maproles", "mapRoles"), ("mapusers", "mapUsers"), ("mapaccounts", "mapAccounts")):
        value = fields.get(key)
        if value is None:
            lists[key] = []
        elif isinstance(value, list):
            lists[key] = value
        else:
            problems.append(f"{label} is not a list")
            lists[key] = []
    roles: list[RoleMapping] = []
    for entry in parse_role_entries(lists["maproles"], "mapRoles"):
        mapping = _strict_entry(entry, "rolearn", problems) if userid_strict else _entry(entry, problems)
        if isinstance(mapping, RoleMapping):
            roles.append(mapping)
    users: list[UserMapping] = []
    for entry in parse_user_entries(lists["mapusers"], "mapUsers"):
        mapping = _strict_entry(entry, "userarn", problems) if userid_strict else _entry(entry, problems)
        if isinstance(mapping, UserMapping):
            users.append(mapping)
    accounts: list[str] = []
    for position, account in enumerate(lists["mapaccounts"]):
        if isinstance(account, str):
            accounts.append(account)
        else:
            problems.append(f"mapAccounts[{position}] is not a string")
    if problems:
        raise DynamicFileError(
            "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
        )
    version = fields.get("version")
    updated = fields.get("lastupdateddatetime")
    return DynamicFileContent(
        version=version if isinstance(version, str) else "",
        last_updated=updated if isinstance(updated, str) else "",
        roles=tuple(roles),
        users=tuple(users),
        accounts=tuple(accounts),
    )


def _entry(entry: EntryResult, problems: list[str]) -> RoleMapping | UserMapping | None:
    if entry.mapping is None:
        problems.append(_dropped(entry))
    return entry.mapping


def _dropped(entry: EntryResult) -> str:
    reasons = [i.message for i in entry.issues if i.severity == "error"] or ["entry is invalid"]
    section = entry.issues[0].section if entry.issues else "entry"
    return f"{section}[{entry.index}]: {reasons[0]}"


def _strict_entry(entry: EntryResult, arn_key: str, problems: list[str]) -> RoleMapping | UserMapping | None:
    section = "mapRoles" if arn_key == "rolearn" else "mapUsers"
    fields = entry.fields
    userid = fields.get("userid")
    if not isinstance(userid, str) or not userid:
        problems.append(f"{section}[{entry.index}]: value for userid must be supplied (dynamicfileUserIDStrict)")
        return None
    if entry.mapping is not None:
        return entry.mapping
    # No ARN is fine in strict mode; the entry is keyed by userid alone. The model wants an
    # ARN-ish key, so the userid stands in (it can never equal a canonical ARN: no "arn:").
    raw_username = fields.get("username")
    username = raw_username if isinstance(raw_username, str) else ""
    raw_groups = fields.get("groups")
    groups = tuple(g for g in raw_groups if isinstance(g, str)) if isinstance(raw_groups, list) else ()
    arn = fields.get(arn_key)
    if isinstance(arn, str) and arn:
        problems.append(_dropped(entry))  # had an ARN but was still dropped (e.g. rolearn and sso)
        return None
    if arn_key == "rolearn":
        if fields.get("sso") is not None:
            problems.append(f"{section}[{entry.index}]: sso entries are not supported with userid")
            return None
        return RoleMapping(username=username, groups=groups, rolearn=f"userid:{userid}", userid=userid)
    return UserMapping(userarn=f"userid:{userid}", username=username, groups=groups, userid=userid)


class DynamicFileSource(PublishedMappings):
    def __init__(
        self,
        *,
        path: str,
        userid_strict: bool = False,
        poll_interval: float = POLL_INTERVAL,
        name: str = DYNAMIC_FILE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Loads the file now if it exists; a missing file is not an error (the source is not
        ready until it appears). An invalid file at start is reported and the source stays
        not ready."""
        self.name = name
        self.path = path
        self.userid_strict = userid_strict
        self._clock = clock
        super().__init__()
        self._roles_by_userid: dict[str, RoleMapping] = {}
        self._users_by_userid: dict[str, UserMapping] = {}
        self._file = WatchedFile(path)
        self._failure: str | None = None
        self._content: DynamicFileContent | None = None
        self._loaded_once = False  # the reference observes the latency from the second load on
        self._poller = Poller(self.name, poll_interval, self.check_for_changes, _log)
        self._lock = threading.Lock()  # check_for_changes may run in a worker thread
        self.check_for_changes()

    # -- MappingSource --------------------------------------------------------------------

    def lookup(self, identity: Identity) -> tuple[Literal["role", "user"], RoleMapping | UserMapping] | None:
        """userid strict mode: the entry for the caller's STS UserId, if its ARN (if any) agrees."""
        if not self.userid_strict:
            return None
        # Roles before users, as the reference; a duplicate userid: the last entry wins.
        entry: RoleMapping | UserMapping | None = self._roles_by_userid.get(identity.user_id)
        kind: Literal["role", "user"] = "role"
        if entry is None:
            entry, kind = self._users_by_userid.get(identity.user_id), "user"
        if entry is None:
            return None
        arn = entry.rolearn if isinstance(entry, RoleMapping) else entry.userarn
        if arn and not arn.startswith("userid:") and strip_path(arn).lower() != identity.canonical_arn.lower():
            _log.warning(
                "%s: userid %s matched but its ARN %s is not the caller's %s: denied",
                self.name,
                identity.user_id,
                arn,
                identity.canonical_arn,
            )
            return None
        return kind, entry

    def status(self) -> SourceStatus:
        kept = f" ({KEPT})" if self._content is not None else ""
        failures = {FILE_SECTION: self._failure + kept} if self._failure else {}
        if self._file.missing:
            failures[FILE_SECTION] = f"{self.path} does not exist"
        return SourceStatus(self.name, self.ready, failures)

    # -- reloading ------------------------------------------------------------------------

    def check_for_changes(self) -> bool:
        """Reload if the file changed, appeared or vanished. True if the mappings changed."""
        with self._lock:
            try:
                text = self._file.changed_text()
            except UnreadableFile as err:
                self._fail(str(err))
                return False
            if text is None:
                return False
            if text is GONE:
                return self._deleted()
            try:
                content = parse_dynamic_file(text, userid_strict=self.userid_strict)
            except DynamicFileError as err:
                self._fail(f"{self.path}: {err}")
                return False
            self._apply(content)
            return True

    def _apply(self, content: DynamicFileContent) -> None:
        if self.userid_strict:
            self._roles_by_userid = {r.userid: r for r in content.roles if r.userid}
            self._users_by_userid = {u.userid: u for u in content.users if u.userid}
            snapshot = MappingSet(accounts=content.accounts)
        else:
            snapshot = MappingSet(roles=content.roles, users=content.users, accounts=content.accounts)
        self._content = content
        if self._failure is not None:
            _log.info("%s: %s is valid again", self.name, self.path)
        self._failure = None
        self._publish_snapshot(snapshot, loaded=True)
        _log.info(
            "%s: loaded %s (version %r): %s, %s, %s%s",
            self.name,
            self.path,
            content.version,
            counted(len(content.roles), "role"),
            counted(len(content.users), "user"),
            counted(len(content.accounts), "account"),
            self._latency(content.last_updated),
        )

    def _latency(self, last_updated: str) -> str:
        # As the reference: the first load after start is not a change upstream, so it is not
        # observed; later ones are, as whole seconds since lastUpdatedDateTime (Unix seconds).
        observe, self._loaded_once = self._loaded_once, True
        seconds = e2e_seconds(last_updated, self._clock())
        if seconds is None:
            return ""
        if observe:
            metrics.dynamic_e2e_latency.labels(type=metrics.DYNAMIC_FILE).observe(seconds)
        return f", {seconds}s after lastUpdatedDateTime"

    def _deleted(self) -> bool:
        had = self._content is not None
        self._content = None
        self._roles_by_userid, self._users_by_userid = {}, {}
        self._publish_snapshot(MappingSet())
        if had:
            _log.error("%s: %s was DELETED: every mapping from it is gone until it is back", self.name, self.path)
        else:
            _log.warning("%s: %s does not exist yet; waiting for it", self.name, self.path)
        return had

    def _fail(self, reason: str) -> None:
        metrics.dynamicfile_failures.inc()
        if self._failure != reason:
            _log.error("%s: %s; keeping the previous mappings", self.name, reason)
        self._failure = reason

    # -- polling task ---------------------------------------------------------------------

    async def start(self) -> None:
        await self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()


def e2e_seconds(last_updated: str, now: float) -> int | None:
    """Whole seconds from ``last_updated`` (Unix seconds, as text) to ``now``; ``None`` when it is
    not an integer or lies in the future (the reference's CalculateTimeDeltaFromUnixInSeconds)."""
    try:
        start = int(last_updated.strip())
    except ValueError:
        return None
    end = int(now)
    return end - start if start <= end else None
