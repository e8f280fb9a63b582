"""The aws-auth ConfigMap's ``data``: its three sections as the server reads them (docs/mapping.md §4).

One parser, several users: the MountedFile source (``server.awsAuthFile``), the EKSConfigMap
source, the linter and ``aws-auth resolve``. Pure: it returns what it found (entries, issues,
section errors) and never logs. Each section string is read with the project's YAML loader
(:mod:`authenticator.mapping.yamlv2`); its entries with :mod:`authenticator.mapping.entries`.

How the reference (aws-iam-authenticator v0.7.x, ``configmap.ParseMap``) reads ``data``:

- ``mapRoles`` / ``mapUsers`` are YAML strings whose list items are entries;
- ``mapAccounts`` is decoded with yaml.v2 into ``[]string``: every scalar keeps its raw text
  (``012345670123`` stays that string, ``yes`` stays ``yes``);
- a section that is not valid YAML, or not a list, is dropped whole in the reference;
  **ours**: that section keeps its previous good value (last known good), or is empty when
  there is none, and the failure is reported;
- blank, ``""``, ``''`` and ````` `` ````` are an empty section.

Decisions where the reference is silent or odd (**ours**):

- ``null`` items of mapAccounts are skipped (the reference keeps ``""``, which matches nothing).
- Only the first YAML document of a section is read, as yaml.v2 does; later ones are reported.
- A section given as a YAML list/map instead of a string (impossible in a real ConfigMap, easy
  in a manifest file) is a section failure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TypeVar

import yaml

from authenticator.mapping.entries import EntryResult, Issue, parse_role_entries, parse_user_entries
from authenticator.mapping.model import MappingSet, RoleMapping, UserMapping
from authenticator.mapping.yamlv2 import first_document, type_name, yaml_error_text

_M = TypeVar("_M", RoleMapping, UserMapping)

__all__ = [
    "BLANK_SECTION_VALUES",
    "MAP_ACCOUNTS",
    "MAP_ROLES",
    "MAP_USERS",
    "SECTIONS",
    "AwsAuthResult",
    "DecodedSection",
    "Locate",
    "SectionResult",
    "decode_section",
    "parse_accounts",
    "parse_aws_auth",
    "section_result",
]

MAP_ROLES = "mapRoles"
MAP_USERS = "mapUsers"
MAP_ACCOUNTS = "mapAccounts"
SECTIONS = (MAP_ROLES, MAP_USERS, MAP_ACCOUNTS)  # data keys are case-sensitive
BLANK_SECTION_VALUES = frozenset({"", '""', "''", "``"})

# (section, 0-based line, 0-based column inside the section string) -> 1-based (line, column) in the
# file the section came from (the server's MountedFile passes one, so that its errors name the
# same positions as ``aws-auth lint``; authenticator.mapping.sources._awsauth_log.file_locator).
Locate = Callable[[str, int, int], tuple[int, int]]


@dataclass(frozen=True, slots=True)
class SectionResult:
    name: str  # "mapRoles" | "mapUsers" | "mapAccounts"
    present: bool  # the key exists in data
    raw: object  # data[name] as given (a str in a real ConfigMap)
    decoded: object  # the YAML value of the section, None when blank/absent/failed
    entries: tuple[EntryResult, ...] = ()  # mapRoles / mapUsers
    accounts: tuple[str, ...] = ()  # mapAccounts, raw text
    error: str | None = None  # why the section failed; then the last good value is used
    error_line: int | None = None  # 1-based, inside the section string (in the file when located)
    error_column: int | None = None
    issues: tuple[Issue, ...] = ()  # entry-level and section-level issues, errors included
    kept_previous: bool = False  # failed, and a previous good value is being used

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class AwsAuthResult:
    """The effective mappings (after last-known-good) and the per-section story."""

    roles: tuple[RoleMapping, ...]
    users: tuple[UserMapping, ...]
    accounts: tuple[str, ...]
    sections: Mapping[str, SectionResult]
    mapping_set: MappingSet = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "mapping_set", MappingSet(self.roles, self.users, self.accounts))

    @property
    def failed_sections(self) -> dict[str, str]:
        return {name: s.error for name, s in self.sections.items() if s.error is not None}

    @property
    def ok(self) -> bool:
        return not self.failed_sections

    @property
    def issues(self) -> tuple[Issue, ...]:
        return tuple(i for s in self.sections.values() for i in s.issues)


def parse_accounts(node: yaml.Node | None, section: str = MAP_ACCOUNTS) -> tuple[tuple[str, ...], list[Issue]]:
    """Account ids of a composed mapAccounts node, each kept as its raw scalar text.

    Raises ValueError when the node is not a list (a section failure)."""
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"):
        return (), []
    if not isinstance(node, yaml.SequenceNode):
        kind = "a mapping" if isinstance(node, yaml.MappingNode) else "a scalar"
        raise ValueError(f"{section} is {kind}, not a list")
    accounts: list[str] = []
    issues: list[Issue] = []
    for i, child in enumerate(node.value):
        if isinstance(child, yaml.ScalarNode):
            if child.tag == "tag:yaml.org,2002:null":
                issues.append(Issue(section, i, "empty_account", "empty account id is skipped", "warning"))
            else:
                accounts.append(child.value)
        else:
            issues.append(Issue(section, i, "account_not_scalar", "account id is not a scalar: dropped", "error"))
    return tuple(accounts), issues


@dataclass(frozen=True, slots=True)
class DecodedSection:
    """One data section string, decoded. ``node``/``value`` are None when blank or failed."""

    node: yaml.Node | None = None  # the composed first document (positions, raw scalar text)
    value: object = None  # its constructed value (not built for mapAccounts, which reads the node)
    more_documents: bool = False
    error: str | None = None
    error_line: int | None = None  # 1-based, inside the section string
    error_column: int | None = None
    yaml_error: yaml.YAMLError | None = field(default=None, compare=False)  # what the loader raised


def decode_section(name: str, raw: object) -> DecodedSection:
    """Decode ``data[name]`` as the server does (blank forms are empty; only the first document)."""
    if not isinstance(raw, str):
        return DecodedSection(error=f"data.{name} is {type_name(raw)}; it must be a string (a `|` block)")
    if raw.strip() in BLANK_SECTION_VALUES:
        return DecodedSection()
    try:
        node, value, more = first_document(raw, construct=name != MAP_ACCOUNTS)
    except yaml.YAMLError as err:
        message, line, column = yaml_error_text(err)
        return DecodedSection(
            error=f"{name} is not valid YAML: {message}", error_line=line, error_column=column, yaml_error=err
        )
    return DecodedSection(node, value, more)


def _parse_section(name: str, data: Mapping[str, object], locate: Locate | None = None) -> SectionResult:
    if name not in data:
        return SectionResult(name, False, None, None)
    decoded = decode_section(name, data[name])
    if locate is not None and decoded.yaml_error is not None and decoded.error_line and decoded.error_column:
        # The message names the position in the file, not inside the section string.
        problem, _, _ = yaml_error_text(decoded.yaml_error)
        problem = problem.removesuffix(f" (line {decoded.error_line}, column {decoded.error_column})")
        line, column = locate(name, decoded.error_line - 1, decoded.error_column - 1)
        error = f"{name} is not valid YAML: {problem} (line {line}, column {column})"
        decoded = replace(decoded, error=error, error_line=line, error_column=column)
    return section_result(name, data[name], decoded)


def section_result(name: str, raw: object, decoded: DecodedSection) -> SectionResult:
    """What the server makes of ``data[name]`` (present), given its :func:`decode_section`: callers
    that also need the node tree (the linter) decode once and pass the same decoding here."""
    if decoded.error is not None:
        issue = Issue(name, None, "section_invalid", decoded.error, "error")
        return SectionResult(
            name,
            True,
            raw,
            None,
            error=decoded.error,
            error_line=decoded.error_line,
            error_column=decoded.error_column,
            issues=(issue,),
        )
    extra: list[Issue] = []
    if decoded.more_documents:
        message = f"{name} holds several YAML documents: only the first is read"
        extra.append(Issue(name, None, "extra_documents", message, "warning"))
    if name == MAP_ACCOUNTS:
        try:
            accounts, issues = parse_accounts(decoded.node)
        except ValueError as err:
            issue = Issue(name, None, "section_invalid", str(err), "error")
            return SectionResult(name, True, raw, None, error=str(err), issues=(issue,))
        return SectionResult(name, True, raw, list(accounts), accounts=accounts, issues=(*extra, *issues))
    value = decoded.value
    if value is None:
        return SectionResult(name, True, raw, None, issues=tuple(extra))
    if not isinstance(value, list):
        error = f"{name} is {type_name(value)}, not a list"
        issue = Issue(name, None, "section_invalid", error, "error")
        return SectionResult(name, True, raw, value, error=error, issues=(issue,))
    entries = parse_role_entries(value, name) if name == MAP_ROLES else parse_user_entries(value, name)
    entry_issues = (*extra, *(i for e in entries for i in e.issues))
    return SectionResult(name, True, raw, value, entries=entries, issues=entry_issues)


def parse_aws_auth(
    data: Mapping[str, object] | None, previous: AwsAuthResult | None = None, *, locate: Locate | None = None
) -> AwsAuthResult:
    """Parse the ``data`` of an aws-auth ConfigMap.

    A section that fails keeps its value from ``previous`` (the last result, itself already
    last-known-good), or is empty on a first load. An absent section is empty. ``locate`` maps
    YAML error positions to the file the data came from (else they are inside the section).
    """
    data = data or {}
    sections = {name: _parse_section(name, data, locate) for name in SECTIONS}
    failed = {name for name, section in sections.items() if section.error is not None}
    if previous is not None:
        for name in failed:
            sections[name] = _replace_kept(sections[name])
    last = previous or AwsAuthResult((), (), (), {})
    roles = last.roles if MAP_ROLES in failed else _mappings(sections[MAP_ROLES], RoleMapping)
    users = last.users if MAP_USERS in failed else _mappings(sections[MAP_USERS], UserMapping)
    accounts = last.accounts if MAP_ACCOUNTS in failed else sections[MAP_ACCOUNTS].accounts
    return AwsAuthResult(roles, users, accounts, sections)


def _mappings(section: SectionResult, kind: type[_M]) -> tuple[_M, ...]:
    return tuple(e.mapping for e in section.entries if isinstance(e.mapping, kind))


def _replace_kept(section: SectionResult) -> SectionResult:
    return SectionResult(
        section.name,
        section.present,
        section.raw,
        section.decoded,
        section.entries,
        section.accounts,
        section.error,
        section.error_line,
        section.error_column,
        section.issues,
        kept_previous=True,
    )
