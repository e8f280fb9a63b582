"""The MountedFile source: ``server.mapRoles/mapUsers/mapAccounts`` plus ``server.awsAuthFile``.

The config-file lists are static (validated strictly at start, like the reference). The aws-auth
manifest named by ``awsAuthFile`` (**ours**) is re-read when its stat changes, with the
last-known-good rule per section; a deleted or unreadable file keeps the last good mappings.
Polling the stat from an asyncio task keeps this dependency-free and deterministic; tests call
:meth:`MountedFileSource.check_for_changes` directly instead of waiting.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from authenticator import metrics
from authenticator.mapping.awsauth import AwsAuthResult, parse_aws_auth
from authenticator.mapping.manifest import ManifestError, load_configmap_manifest
from authenticator.mapping.model import MappingSet
from authenticator.mapping.server_mappings import parse_server_mappings
from authenticator.mapping.sources._awsauth_log import KEPT, failures, file_locator, log_result
from authenticator.mapping.sources._poll import POLL_INTERVAL, Poller
from authenticator.mapping.sources._published import PublishedMappings, SourceStatus
from authenticator.mapping.sources.modes import MOUNTED_FILE

__all__ = ["MountedFileSource"]

FILE_SECTION = "file"  # section label when the whole manifest could not be read

_log = logging.getLogger("authenticator.mapping")

_Stat = tuple[int, int, int, int]  # (st_mtime_ns, st_size, st_ino, st_dev)


class MountedFileSource(PublishedMappings):
    def __init__(
        self,
        *,
        map_roles: Sequence[object] | None = None,
        map_users: Sequence[object] | None = None,
        map_accounts: Sequence[object] | None = None,
        aws_auth_file: str | None = None,
        poll_interval: float = POLL_INTERVAL,
        name: str = MOUNTED_FILE,
    ) -> None:
        """Raises MappingConfigError for invalid config-file mappings and ManifestError/OSError when
        ``aws_auth_file`` cannot be read at start (the server must not start half-configured)."""
        self.name = name
        self.aws_auth_file = aws_auth_file
        self._static, warnings = parse_server_mappings(map_roles, map_users, map_accounts)
        for issue in warnings:
            _log.warning("%s: %s[%s]: %s", name, issue.section, issue.index, issue.message)
        self._result: AwsAuthResult | None = None
        self._file_failure: str | None = None
        self._stat: _Stat | None = None
        self._poller = Poller(self.name, poll_interval, self.check_for_changes, _log)
        super().__init__(self._static)
        if aws_auth_file is not None:
            stat = _stat(aws_auth_file)
            with open(aws_auth_file, encoding="utf-8") as handle:
                text = handle.read()
            data = load_configmap_manifest(text)
            self._apply(parse_aws_auth(data, None, locate=file_locator(aws_auth_file, text)), stat)
        self._mark_loaded()  # the constructor loads or raises

    # -- status ---------------------------------------------------------------------------

    @property
    def last_result(self) -> AwsAuthResult | None:
        """The last parse of the aws-auth file (sections, entries, issues), for status and tools."""
        return self._result

    def status(self) -> SourceStatus:
        failing = failures(self._result)
        if self._file_failure is not None:
            failing[FILE_SECTION] = f"{self._file_failure} ({KEPT})"
        return SourceStatus(self.name, self.ready, failing)

    # -- reloading ------------------------------------------------------------------------

    def check_for_changes(self) -> bool:
        """Reload the aws-auth file if its stat changed (or it vanished). True if it reloaded."""
        if self.aws_auth_file is None:
            return False
        try:
            stat = _stat(self.aws_auth_file)
        except OSError as err:
            self._fail(f"cannot stat the aws-auth file: {err.strerror or type(err).__name__}", None)
            return False
        if stat == self._stat and self._file_failure is None:
            return False
        self.reload()
        return True

    def reload(self) -> AwsAuthResult | None:
        """Read and apply the aws-auth file now. Returns the new result, or None if the file
        could not be read as a manifest (then everything from it stays as it was)."""
        if self.aws_auth_file is None:
            return None
        try:
            stat = _stat(self.aws_auth_file)
            with open(self.aws_auth_file, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as err:
            reason = getattr(err, "strerror", None) or type(err).__name__
            self._fail(f"cannot read the aws-auth file: {reason}", None)
            return None
        try:
            data = load_configmap_manifest(text)
        except ManifestError as err:
            self._fail(f"aws-auth file: {err}", stat)
            return None
        result = parse_aws_auth(data, self._result, locate=file_locator(self.aws_auth_file, text))
        self._apply(result, stat)
        return result

    def _apply(self, result: AwsAuthResult, stat: _Stat) -> None:
        for section in result.failed_sections:
            metrics.mapping_section_failures.labels(source=self.name, section=section).inc()
        log_result(result, source=self.name)
        self._result = result
        self._stat = stat
        if self._file_failure is not None:
            _log.info("%s: the aws-auth file is readable again", self.name)
        self._file_failure = None
        self._publish_snapshot(
            MappingSet(
                # Config-file entries first: on a duplicate ARN the aws-auth file's entry wins.
                roles=self._static.roles + result.roles,
                users=self._static.users + result.users,
                accounts=self._static.accounts + result.accounts,
            )
        )

    def _fail(self, reason: str, stat: _Stat | None) -> None:
        if self._file_failure != reason:  # log and count once per failure, not once per poll
            metrics.mapping_section_failures.labels(source=self.name, section=FILE_SECTION).inc()
            _log.error("%s: %s; keeping the last good mappings", self.name, reason)
        self._file_failure = reason
        if stat is not None:
            self._stat = stat

    # -- polling task ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start polling the aws-auth file every ``poll_interval`` seconds (no-op without one)."""
        if self.aws_auth_file is not None:
            await self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()


def _stat(path: str) -> _Stat:
    st = os.stat(path)
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev)
