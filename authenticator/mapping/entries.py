"""One mapRoles / mapUsers entry as the reference reads it (docs/mapping.md §4), with its issues.

The same entry rules serve the aws-auth sections (:mod:`authenticator.mapping.awsauth`), the
server config's ``server.mapRoles`` / ``mapUsers`` (:mod:`authenticator.mapping.server_mappings`)
and DynamicFile documents. Pure: an entry in, an :class:`EntryResult` (with the mapping the
server uses, or None when it drops the entry) out.

How the reference (aws-iam-authenticator v0.7.x, ``configmap.ParseMap``) reads an entry: the
YAML is turned into JSON and decoded with Go's ``encoding/json``, so

- entry keys match case-insensitively; unknown keys are ignored; a field of the wrong type is
  left empty and the entry stays. Because the JSON object's keys come out sorted, when two keys
  differ only by case the one that sorts last (byte order) wins;
- a role needs exactly one of rolearn / sso (sso: accountID 12 digits, permissionSetName
  ``^[\\w+=,.@-]{1,32}$``, a known partition); a user needs userarn. An invalid entry is dropped
  alone, the rest of the section is used.

**Ours**: a non-string group inside ``groups`` is dropped with a warning (the reference keeps
``""``); the same ARN twice is reported (the last entry wins).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Literal

from authenticator.mapping.model import ACCOUNT_ID_RE, PERMISSION_SET_NAME_RE, RoleMapping, SSOMatcher, UserMapping
from authenticator.mapping.yamlv2 import type_name
from authenticator.partitions import PARTITIONS

__all__ = [
    "ROLE_KEYS",
    "SSO_KEYS",
    "USER_KEYS",
    "EntryResult",
    "Issue",
    "IssueCode",
    "PrincipalKey",
    "Severity",
    "parse_role_entries",
    "parse_user_entries",
    "principal_key",
]

ROLE_KEYS = ("rolearn", "sso", "username", "groups", "userid")
USER_KEYS = ("userarn", "username", "groups", "userid")
SSO_KEYS = ("permissionsetname", "accountid", "partition")

Severity = Literal["error", "warning", "info"]
IssueCode = Literal[
    "section_invalid",  # the section failed: not a string, not YAML, not a list
    "extra_documents",  # several YAML documents in one section: only the first is read
    "entry_not_mapping",  # dropped
    "entry_invalid",  # dropped: missing/both rolearn and sso, bad sso, missing userarn
    "wrong_type",  # a field of the wrong type: the field is empty, the entry stays
    "group_dropped",  # a non-string item of groups is dropped
    "unknown_key",  # ignored
    "role_path",  # a rolearn with a path: never matches
    "duplicate",  # the same ARN again: the last entry wins
    "empty_account",  # a null mapAccounts item: skipped
    "account_not_scalar",  # a mapAccounts item that is a list/map: dropped
]


@dataclass(frozen=True, slots=True)
class Issue:
    """Something the parser noticed. ``error``: the entry (index set) or section was dropped."""

    section: str
    index: int | None  # entry index in the section list; None for the section itself
    code: IssueCode
    message: str  # safe to log: names keys and ARNs, never secrets
    severity: Severity = "warning"
    key: str | None = None  # the lower-cased entry key concerned, if any


@dataclass(frozen=True, slots=True)
class EntryResult:
    """One list item of mapRoles/mapUsers, and what the server does with it."""

    index: int
    raw: object  # the item as YAML decoded it (normally a dict with the user's spelling of keys)
    fields: Mapping[str, object]  # lower-cased known key -> the decoded value that won
    spellings: Mapping[str, str]  # lower-cased known key -> the spelling that won (e.g. "roleARN")
    unknown_keys: tuple[str, ...]
    mapping: RoleMapping | UserMapping | None  # None: the server drops this entry
    issues: tuple[Issue, ...]


def _key_text(key: object) -> str:
    # How sigs.k8s.io/yaml turns non-string YAML keys into JSON keys.
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


# Go's case-insensitive key match also folds these two onto ASCII letters (U+017F long s, U+212A Kelvin sign).
_GO_EXTRA_FOLDS = {0x17F: "s", 0x212A: "k"}


def _fold_keys(
    item: Mapping[object, object], known: Sequence[str]
) -> tuple[dict[str, object], dict[str, str], tuple[str, ...]]:
    """Case-insensitive keys the way Go's encoding/json sees sorted JSON keys: the last wins."""
    fields: dict[str, object] = {}
    spellings: dict[str, str] = {}
    unknown: list[str] = []
    pairs = [(k if type(k) is str else _key_text(k), v) for k, v in item.items()]
    pairs.sort(key=itemgetter(0))  # stable, by key text only: as sorted() with the same key
    for text, value in pairs:
        # The extra folds only touch non-ASCII text; skipping translate() keeps large files fast.
        lower = text.lower() if text.isascii() else text.translate(_GO_EXTRA_FOLDS).lower()
        if lower in known:
            fields[lower] = value
            spellings[lower] = text
        else:
            unknown.append(text)
    return fields, spellings, tuple(unknown)


class _EntryReader:
    """Reads fields of one entry, recording wrong types as issues (the field becomes empty)."""

    def __init__(self, section: str, index: int, spellings: Mapping[str, str]) -> None:
        self.section = section
        self.index = index
        self.spellings = spellings
        self.issues: list[Issue] = []

    def issue(self, code: IssueCode, message: str, severity: Severity = "warning", key: str | None = None) -> None:
        self.issues.append(Issue(self.section, self.index, code, message, severity, key))

    def string(self, fields: Mapping[str, object], key: str, *, label: str | None = None) -> str:
        value = fields.get(key)
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        name = label or self.spellings.get(key, key)
        self.issue("wrong_type", f"{name} is {type_name(value)}, not a string: the field is ignored", key=key)
        return ""

    def groups(self, fields: Mapping[str, object]) -> tuple[str, ...]:
        value = fields.get("groups")
        if value is None:
            return ()
        name = self.spellings.get("groups", "groups")
        if not isinstance(value, list):
            self.issue(
                "wrong_type", f"{name} is {type_name(value)}, not a list: the entry gets no groups", key="groups"
            )
            return ()
        out: list[str] = []
        for position, group in enumerate(value):
            if isinstance(group, str):
                out.append(group)
            else:
                self.issue(
                    "group_dropped", f"{name}[{position}] is {type_name(group)}, not a string: dropped", key="groups"
                )
        return tuple(out)

    def sso(self, fields: Mapping[str, object]) -> tuple[str, str, str] | None:
        value = fields.get("sso")
        if value is None:
            return None
        name = self.spellings.get("sso", "sso")
        if not isinstance(value, dict):
            self.issue("wrong_type", f"{name} is {type_name(value)}, not a mapping: the field is ignored", key="sso")
            return None
        sso_fields, sso_spellings, unknown = _fold_keys(value, SSO_KEYS)
        for key in unknown:
            self.issue("unknown_key", f"unknown key {name}.{key} is ignored", "info", key="sso")
        permission_set = self.string(
            sso_fields, "permissionsetname", label=f"{name}.{sso_spellings.get('permissionsetname', '')}"
        )
        account = self.string(sso_fields, "accountid", label=f"{name}.{sso_spellings.get('accountid', '')}")
        partition = self.string(sso_fields, "partition", label=f"{name}.{sso_spellings.get('partition', '')}")
        return permission_set, account, partition


def _role_path_warning(rolearn: str) -> str | None:
    parts = rolearn.split(":", 5)
    if len(parts) == 6 and parts[5].lower().startswith("role/") and "/" in parts[5][5:]:
        return (
            f"rolearn {rolearn} has a path: STS never puts the path in an assumed-role ARN, "
            "so this entry never matches (write the ARN without the path)"
        )
    return None


def _parse_entry(
    item: object,
    index: int,
    section: str,
    known: Sequence[str],
    build: Callable[[Mapping[str, object], _EntryReader], RoleMapping | UserMapping | None],
) -> EntryResult:
    """The steps every entry shares; ``build`` reads the section's own fields into its mapping."""
    if not isinstance(item, dict):
        issue = Issue(
            section, index, "entry_not_mapping", f"entry is {type_name(item)}, not a mapping: dropped", "error"
        )
        return EntryResult(index, item, {}, {}, (), None, (issue,))
    fields, spellings, unknown = _fold_keys(item, known)
    reader = _EntryReader(section, index, spellings)
    for key in unknown:
        reader.issue("unknown_key", f"unknown key {key!r} is ignored", "info")
    mapping = build(fields, reader)
    return EntryResult(index, item, fields, spellings, unknown, mapping, tuple(reader.issues))


def _role_mapping(fields: Mapping[str, object], reader: _EntryReader) -> RoleMapping | None:
    rolearn = reader.string(fields, "rolearn")
    sso = reader.sso(fields)
    username = reader.string(fields, "username")
    groups = reader.groups(fields)
    userid = reader.string(fields, "userid") or None
    mapping: RoleMapping | None = None
    if not rolearn and sso is None:
        reader.issue("entry_invalid", "one of rolearn or sso must be supplied: entry dropped", "error")
    elif rolearn and sso is not None:
        reader.issue("entry_invalid", "only one of rolearn or sso can be supplied: entry dropped", "error")
    elif sso is not None:
        matcher = _sso_matcher(sso, reader)
        if matcher is not None:
            mapping = RoleMapping(username=username, groups=groups, sso=matcher, userid=userid)
    else:
        warning = _role_path_warning(rolearn)
        if warning:
            reader.issue("role_path", warning, "warning", key="rolearn")
        mapping = RoleMapping(username=username, groups=groups, rolearn=rolearn, userid=userid)
    return mapping


def _sso_matcher(sso: tuple[str, str, str], reader: _EntryReader) -> SSOMatcher | None:
    permission_set, account, partition = sso
    if not ACCOUNT_ID_RE.fullmatch(account):
        reader.issue(
            "entry_invalid",
            f"sso accountID {account!r} is not a 12-digit AWS account id: entry dropped",
            "error",
            "sso",
        )
        return None
    if not PERMISSION_SET_NAME_RE.fullmatch(permission_set):
        reader.issue(
            "entry_invalid", f"sso permissionSetName {permission_set!r} is not valid: entry dropped", "error", "sso"
        )
        return None
    if partition and partition not in PARTITIONS:
        reader.issue(
            "entry_invalid", f"sso partition {partition!r} is not an AWS partition: entry dropped", "error", "sso"
        )
        return None
    return SSOMatcher(permission_set_name=permission_set, account_id=account, partition=partition or "aws")


def _user_mapping(fields: Mapping[str, object], reader: _EntryReader) -> UserMapping | None:
    userarn = reader.string(fields, "userarn")
    username = reader.string(fields, "username")
    groups = reader.groups(fields)
    userid = reader.string(fields, "userid") or None
    if not userarn:
        reader.issue("entry_invalid", "value for userarn must be supplied: entry dropped", "error")
        return None
    return UserMapping(userarn=userarn, username=username, groups=groups, userid=userid)


PrincipalKey = str | tuple[str, SSOMatcher | None]


def principal_key(mapping: RoleMapping | UserMapping) -> PrincipalKey:
    """Who a kept entry maps: its ARN (case-insensitive) or its sso matcher. Two entries with
    the same key map the same principals, and the last one wins."""
    if isinstance(mapping, RoleMapping):
        return mapping.rolearn.lower() if mapping.rolearn else ("sso", mapping.sso)
    return mapping.userarn.lower()


def _duplicate_issues(section: str, entries: Sequence[EntryResult]) -> list[tuple[int, Issue]]:
    """(index of the later entry, its duplicate warning) for every entry an earlier one repeats."""
    seen: dict[PrincipalKey, int] = {}
    issues: list[tuple[int, Issue]] = []
    for entry in entries:
        m = entry.mapping
        if m is None:
            continue
        key = principal_key(m)
        if key in seen:
            if isinstance(m, UserMapping):
                label = f"userarn {m.userarn}"
            elif m.rolearn or m.sso is None:
                label = f"rolearn {m.rolearn}"
            else:
                label = f"sso {m.sso.permission_set_name}@{m.sso.account_id}"
            issues.append(
                (
                    entry.index,
                    Issue(
                        section,
                        entry.index,
                        "duplicate",
                        f"{label} duplicates {section}[{seen[key]}]: the last entry wins, the earlier one is dead",
                        "warning",
                    ),
                )
            )
        seen[key] = entry.index
    return issues


def parse_role_entries(items: Sequence[object], section: str = "mapRoles") -> tuple[EntryResult, ...]:
    """Every list item of a mapRoles section (or server.mapRoles), reference semantics."""
    entries = [_parse_entry(item, i, section, ROLE_KEYS, _role_mapping) for i, item in enumerate(items)]
    return _with_duplicates(section, entries)


def parse_user_entries(items: Sequence[object], section: str = "mapUsers") -> tuple[EntryResult, ...]:
    """Every list item of a mapUsers section (or server.mapUsers), reference semantics."""
    entries = [_parse_entry(item, i, section, USER_KEYS, _user_mapping) for i, item in enumerate(items)]
    return _with_duplicates(section, entries)


def _with_duplicates(section: str, entries: list[EntryResult]) -> tuple[EntryResult, ...]:
    by_index = {e.index: e for e in entries}
    for index, issue in _duplicate_issues(section, entries):
        entry = by_index[index]
        by_index[index] = EntryResult(
            entry.index,
            entry.raw,
            entry.fields,
            entry.spellings,
            entry.unknown_keys,
            entry.mapping,
            (*entry.issues, issue),
        )
    return tuple(by_index[e.index] for e in entries)
