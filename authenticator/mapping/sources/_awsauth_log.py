"""What an aws-auth load did, in the server's log: failed sections (kept or emptied), dropped
entries, warnings. Shared by the two sources that read aws-auth (MountedFile, EKSConfigMap);
the parser itself never logs."""

from __future__ import annotations

import logging

from authenticator.mapping.awsauth import MAP_ACCOUNTS, MAP_ROLES, MAP_USERS, AwsAuthResult

__all__ = ["log_result"]

_log = logging.getLogger("authenticator.mapping")


def log_result(result: AwsAuthResult, *, source: str, logger: logging.Logger | None = None) -> None:
    """Log what a load did: failed sections (kept or emptied), dropped entries, warnings."""
    log = logger or _log
    for name, section in result.sections.items():
        if section.error is not None:
            kept = {MAP_ROLES: len(result.roles), MAP_USERS: len(result.users), MAP_ACCOUNTS: len(result.accounts)}
            if section.kept_previous:
                log.error(
                    "%s: aws-auth %s failed to load (%s); keeping the last good %s (%d entries)",
                    source,
                    name,
                    section.error,
                    name,
                    kept[name],
                )
            else:
                log.error("%s: aws-auth %s failed to load (%s); %s is empty", source, name, section.error, name)
            continue
        for issue in section.issues:
            where = f"{name}[{issue.index}]" if issue.index is not None else name
            if issue.severity in ("error", "warning"):
                log.warning("%s: aws-auth %s: %s", source, where, issue.message)
            else:
                log.debug("%s: aws-auth %s: %s", source, where, issue.message)
        if section.present:
            count = len(section.accounts) if name == MAP_ACCOUNTS else sum(1 for e in section.entries if e.mapping)
            log.info("%s: aws-auth %s applied (%d entries)", source, name, count)
