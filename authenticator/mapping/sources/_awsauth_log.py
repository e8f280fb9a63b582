"""What an aws-auth load did, told the same way everywhere: the server's log (failed sections, kept
or emptied; dropped entries; warnings), the failures /readyz shows, and the file positions of YAML
errors. Shared by the two sources that read aws-auth (MountedFile, EKSConfigMap); the parser
itself never logs."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from authenticator.mapping.awsauth import MAP_ACCOUNTS, MAP_ROLES, MAP_USERS, AwsAuthResult, Locate
from authenticator.words import counted

if TYPE_CHECKING:
    from authenticator.lint.document import Section

__all__ = ["KEPT", "NOTHING_SERVED", "failures", "file_locator", "log_result"]

_log = logging.getLogger("authenticator.mapping")

KEPT = "serving the last good value"
NOTHING_SERVED = "nothing is served from this section"  # a failure with no good value before it


def failures(result: AwsAuthResult | None) -> dict[str, str]:
    """Each failed section -> why, and what is served instead (for /readyz): its last good value,
    or nothing when it never loaded (a server started with a broken section)."""
    if result is None:
        return {}
    return {
        name: f"{section.error} ({KEPT if section.kept_previous else NOTHING_SERVED})"
        for name, section in result.sections.items()
        if section.error is not None
    }


def file_locator(path: str, text: str) -> Locate:
    """Where a position inside a section string of the aws-auth manifest ``text`` is in the file:
    the linter's own mapping (``aws-auth lint`` reports the same line:column). The file is read
    for positions only when an error asks for one."""
    sections: dict[str, Section] | None = None

    def locate(section: str, line: int, column: int) -> tuple[int, int]:
        nonlocal sections
        if sections is None:
            from authenticator.lint.document import load_targets  # only on a failure

            maps = [t for t in load_targets(path, text) if t.kind == "configmap"]
            chosen = [t for t in maps if t.name == "aws-auth"] or maps  # as load_configmap_manifest chooses
            sections = chosen[0].sections if len(chosen) == 1 else {}
        found = sections.get(section)
        return found.pos_at(line, column) if found is not None else (line + 1, column + 1)

    return locate


def log_result(result: AwsAuthResult, *, source: str, logger: logging.Logger | None = None) -> None:
    """Log what a load did: failed sections (kept or emptied), dropped entries, warnings."""
    log = logger or _log
    for name, section in result.sections.items():
        if section.error is not None:
            kept = {MAP_ROLES: len(result.roles), MAP_USERS: len(result.users), MAP_ACCOUNTS: len(result.accounts)}
            if section.kept_previous:
                log.error(
                    "%s: aws-auth %s failed to load (%s); keeping the last good %s (%s)",
                    source,
                    name,
                    section.error,
                    name,
                    counted(kept[name], "entry", "entries"),
                )
            else:
                log.error(
                    "%s: aws-auth %s failed to load (%s); %s is empty: no good value to keep",
                    source,
                    name,
                    section.error,
                    name,
                )
            continue
        for issue in section.issues:
            where = f"{name}[{issue.index}]" if issue.index is not None else name
            if issue.severity in ("error", "warning"):
                log.warning("%s: aws-auth %s: %s", source, where, issue.message)
            else:
                log.debug("%s: aws-auth %s: %s", source, where, issue.message)
        if section.present:
            count = len(section.accounts) if name == MAP_ACCOUNTS else sum(1 for e in section.entries if e.mapping)
            log.info("%s: aws-auth %s applied (%s)", source, name, counted(count, "entry", "entries"))
