"""The aws-auth entries a migration carries: what the server would serve, with where each came from.

The linter's reading of the manifest (:func:`authenticator.lint.document.load_targets`, itself the
server's parser: ``decode_section`` + ``section_result``) gives every entry with its position;
this module keeps the *effective* ones — the last of duplicates, roles before users for the same
ARN, as :class:`authenticator.mapping.chain.MappingIndex` looks them up — and the mapAccounts
accounts. Pure: text in, :class:`AwsAuthEntries` out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from authenticator.errors import UserError
from authenticator.lint.document import Entry, Target, load_targets
from authenticator.mapping.entries import PrincipalKey, principal_key
from authenticator.mapping.model import RoleMapping, UserMapping

__all__ = ["AccountEntry", "AwsAuthEntries", "EffectiveEntry", "InputError", "effective", "read_aws_auth"]


class InputError(UserError):
    """The aws-auth input cannot be migrated as it is (no ConfigMap, a section the server drops)."""


@dataclass(frozen=True, slots=True)
class EffectiveEntry:
    source: str  # "mapRoles[3]"
    line: int  # 1-based line of the entry in the input
    mapping: RoleMapping | UserMapping
    shadowed: tuple[str, ...] = ()  # earlier entries for the same principal, dead today


@dataclass(frozen=True, slots=True)
class AccountEntry:
    source: str  # "mapAccounts[0]"
    line: int
    account: str


@dataclass(frozen=True, slots=True)
class AwsAuthEntries:
    entries: tuple[EffectiveEntry, ...] = ()
    accounts: tuple[AccountEntry, ...] = ()
    warnings: tuple[str, ...] = field(default=())


def _choose(targets: list[Target], path: str) -> Target:
    maps = [t for t in targets if t.kind == "configmap"]
    named = [t for t in maps if t.name == "aws-auth"]
    chosen = named or maps
    if not chosen:
        raise InputError(f"{path}: no aws-auth ConfigMap found (expected kind: ConfigMap, metadata.name: aws-auth)")
    if len(chosen) > 1:
        raise InputError(f"{path}: several candidate aws-auth ConfigMaps in one file")
    return chosen[0]


def _label(entry: Entry) -> str:
    return f"{entry.section.label}[{entry.index}]"


def effective(target: Target) -> list[tuple[Entry, RoleMapping | UserMapping, tuple[Entry, ...]]]:
    """The entries the server uses (in the order their principals first appear), each with its
    mapping and the earlier entries for the same principal it makes dead: the last entry of a
    section wins; a mapUsers entry for an ARN that mapRoles maps loses to the role entry."""
    kept: dict[PrincipalKey, tuple[Entry, RoleMapping | UserMapping, tuple[Entry, ...]]] = {}
    for name in ("mapRoles", "mapUsers"):
        section = target.sections.get(name)
        if section is None:
            continue
        for entry in section.entries:
            mapping = entry.result.mapping
            if mapping is None:
                continue
            key = principal_key(mapping)
            previous = kept.get(key)
            if previous is None:
                kept[key] = (entry, mapping, ())
            elif previous[0].section is section:
                kept[key] = (entry, mapping, (*previous[2], previous[0]))
            else:
                kept[key] = (previous[0], previous[1], (*previous[2], entry))
    return list(kept.values())


def read_aws_auth(path: str, text: str) -> AwsAuthEntries:
    """The effective entries of the aws-auth ConfigMap in ``text``. Raises InputError."""
    targets = load_targets(path, text)
    invalid = [t for t in targets if t.kind == "invalid" and t.error is not None]
    if invalid and not any(t.kind == "configmap" for t in targets):
        message, line, _ = invalid[0].error or ("not valid YAML", 0, 0)
        raise InputError(f"{path}:{line}: not valid YAML: {message}")
    target = _choose(targets, path)
    for section in target.sections.values():
        if section.result.error is not None:
            # The server would serve nobody from it: planning without it would drop its principals.
            raise InputError(f"{path}: {section.result.error}: fix it first (`aws-auth lint {path}` explains it)")
    entries = tuple(
        EffectiveEntry(_label(entry), entry.section.pos(entry.node)[0], mapping, tuple(_label(d) for d in dead))
        for entry, mapping, dead in effective(target)
    )
    accounts: list[AccountEntry] = []
    listed = target.sections.get("mapAccounts")
    if listed is not None and isinstance(listed.root, yaml.SequenceNode):
        for index, item in enumerate(listed.root.value):
            if isinstance(item, yaml.ScalarNode) and item.tag != "tag:yaml.org,2002:null":
                accounts.append(AccountEntry(f"{listed.label}[{index}]", listed.pos(item)[0], item.value))
    return AwsAuthEntries(entries, tuple(accounts))
