"""``server.mapRoles`` / ``mapUsers`` / ``mapAccounts`` of the server's config file.

Real YAML lists (not section strings), read with the aws-auth entry rules
(:mod:`authenticator.mapping.entries`) but strictly, as the reference's MountedFile does: an
entry the server would drop stops the server from starting.
"""

from __future__ import annotations

from collections.abc import Sequence

from authenticator.errors import UserError
from authenticator.mapping.entries import Issue, parse_role_entries, parse_user_entries
from authenticator.mapping.model import ACCOUNT_ID_RE, MappingSet, RoleMapping, UserMapping
from authenticator.mapping.yamlv2 import type_name

__all__ = ["MappingConfigError", "parse_server_mappings"]


class MappingConfigError(UserError, ValueError):
    """Invalid mappings in the server config (the server refuses to start)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid mapping: " + "; ".join(self.problems))


def parse_server_mappings(
    map_roles: Sequence[object] | None,
    map_users: Sequence[object] | None,
    map_accounts: Sequence[object] | None,
) -> tuple[MappingSet, tuple[Issue, ...]]:
    """``server.mapRoles`` / ``mapUsers`` / ``mapAccounts`` of the config file (lists, not strings).

    Same entry rules as aws-auth, but strict like the reference's MountedFile: an entry that
    would be dropped or a field of the wrong type raises MappingConfigError (the server does not
    start). Returns the mappings and the remaining warnings (paths, duplicates, unknown keys).
    """
    problems: list[str] = []
    warnings: list[Issue] = []
    mappings: list[RoleMapping | UserMapping] = []
    for name, items, parse in (
        ("server.mapRoles", map_roles, parse_role_entries),
        ("server.mapUsers", map_users, parse_user_entries),
    ):
        if items is None:
            continue
        if not isinstance(items, list | tuple):
            problems.append(f"{name} must be a list")
            continue
        entries = parse(list(items), name)
        for entry in entries:
            for issue in entry.issues:
                if issue.severity == "error" or issue.code in ("wrong_type", "group_dropped"):
                    problems.append(f"{name}[{issue.index}]: {issue.message}")
                else:
                    warnings.append(issue)
        mappings.extend(e.mapping for e in entries if e.mapping is not None)
    accounts: list[str] = []
    if map_accounts is not None and not isinstance(map_accounts, list | tuple):
        problems.append("server.mapAccounts must be a list")
    for i, account in enumerate(map_accounts if isinstance(map_accounts, list | tuple) else ()):
        if isinstance(account, str):
            accounts.append(account)
        elif isinstance(account, int) and not isinstance(account, bool):
            # A YAML loader already made it a number: leading zeros may be gone. Quote account ids.
            accounts.append(str(account))
            if not ACCOUNT_ID_RE.fullmatch(str(account)):
                problems.append(f"server.mapAccounts[{i}]: {account} is not 12 digits (quote account ids)")
        else:
            problems.append(f"server.mapAccounts[{i}] is {type_name(account)}, not an account id")
    if problems:
        raise MappingConfigError(problems)
    roles = tuple(m for m in mappings if isinstance(m, RoleMapping))
    users = tuple(m for m in mappings if isinstance(m, UserMapping))
    return MappingSet(roles, users, tuple(accounts)), tuple(warnings)
