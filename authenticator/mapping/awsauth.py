"""The aws-auth parser: the reference's semantics (mapping.md §4) plus our last-known-good rule.

One parser, several users: the MountedFile source (``server.awsAuthFile``), the EKSConfigMap
source, and the linter / ``aws-auth resolve``. Everything here is pure: it returns what it
found (entries, issues, section errors) and never logs; :func:`log_result` does that for the
sources.

How the reference reads ``data`` (aws-iam-authenticator v0.7.x, ``configmap.ParseMap``):

- ``mapRoles`` / ``mapUsers`` are YAML strings turned into JSON (YAML 1.1 scalars: ``yes`` is a
  bool, ``012`` an octal int, timestamps stay strings) and decoded with Go's ``encoding/json``:
  entry keys match case-insensitively; unknown keys are ignored; a field of the wrong type is
  left empty and the entry stays. Because the JSON object's keys come out sorted, when two
  keys differ only by case the one that sorts last (byte order) wins.
- Each entry is validated: a role needs exactly one of rolearn / sso (sso: accountID 12 digits,
  permissionSetName ``^[\\w+=,.@-]{1,32}$``, a known partition); a user needs userarn. An
  invalid entry is dropped alone, the rest of the section is used.
- ``mapAccounts`` is decoded with yaml.v2 into ``[]string``: every scalar keeps its raw text
  (``012345670123`` stays that string, ``yes`` stays ``yes``).
- A section that is not valid YAML, or not a list, is dropped whole in the reference;
  **ours**: that section keeps its previous good value (last known good), or is empty when
  there is none, and the failure is reported.
- Blank, ``""``, ``''`` and ````` `` ````` are an empty section.

Decisions where the reference is silent or odd (**ours**):

- A non-string group inside ``groups`` is dropped with a warning (the reference keeps ``""``).
- ``null`` items of mapAccounts are skipped (the reference keeps ``""``, which matches nothing).
- Only the first YAML document of a section is read, as yaml.v2 does; later ones are reported.
- A section given as a YAML list/map instead of a string (impossible in a real ConfigMap, easy
  in a manifest file) is a section failure.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Literal

import yaml

from authenticator.errors import UserError
from authenticator.mapping.model import (
    ACCOUNT_ID_RE,
    PERMISSION_SET_NAME_RE,
    MappingSet,
    RoleMapping,
    SSOMatcher,
    UserMapping,
)
from authenticator.partitions import PARTITIONS

__all__ = [
    "BLANK_SECTION_VALUES",
    "SECTIONS",
    "AwsAuthLoader",
    "AwsAuthResult",
    "DecodedSection",
    "EntryResult",
    "Issue",
    "ManifestError",
    "MappingConfigError",
    "SectionResult",
    "compose_yaml",
    "decode_section",
    "go_yaml_number",
    "load_configmap_manifest",
    "load_yaml",
    "log_result",
    "parse_accounts",
    "parse_aws_auth",
    "parse_role_entries",
    "parse_server_mappings",
    "parse_user_entries",
]

MAP_ROLES = "mapRoles"
MAP_USERS = "mapUsers"
MAP_ACCOUNTS = "mapAccounts"
SECTIONS = (MAP_ROLES, MAP_USERS, MAP_ACCOUNTS)  # data keys are case-sensitive
BLANK_SECTION_VALUES = frozenset({"", '""', "''", "``"})

ROLE_KEYS = ("rolearn", "sso", "username", "groups", "userid")
USER_KEYS = ("userarn", "username", "groups", "userid")
SSO_KEYS = ("permissionsetname", "accountid", "partition")

_log = logging.getLogger("authenticator.mapping")

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


# ---------------------------------------------------------------------------------------------
# YAML with yaml.v2's scalar rules


# libyaml when present: the pure-Python scanner needs seconds for a 10,000-entry section.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_NUMERIC_START = frozenset("+-.0123456789")
_YAML_FLOAT_SPECIALS = {
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
}
# Go's strconv.ParseInt(s, 0, 64) syntax (a leading 0 means octal) and yaml.v2's float regexp.
_GO_INT = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_YAML_V2_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")


def go_yaml_number(text: str) -> int | float | None:
    """The number yaml.v2 reads from a plain scalar, or None when it reads a string.

    yaml.v2 removes ``_``, tries Go's ParseInt (``0x``/``0o``/``0b`` prefixes, a leading 0 is
    octal: ``012345670123`` is 1402433619), then its float pattern (``1e3`` is a float). PyYAML's
    YAML 1.1 rules differ (``1e3`` and ``0o17`` are strings there, ``1:20`` is an int)."""
    if not text:
        return None
    if text in _YAML_FLOAT_SPECIALS:
        return _YAML_FLOAT_SPECIALS[text]
    if text[0] == ".":  # yaml.v2 hands these to ParseFloat as they are
        return float(text) if _YAML_V2_FLOAT.fullmatch(text) else None
    plain = text.replace("_", "")
    if _GO_INT.fullmatch(plain):
        sign = -1 if plain.startswith("-") else 1
        digits = plain.lstrip("+-")
        if len(digits) > 1 and digits[0] == "0" and digits[1].isdigit():
            return sign * int(digits, 8)
        return sign * int(digits, 0)
    if _YAML_V2_FLOAT.fullmatch(plain):
        return float(plain)
    return None


class AwsAuthLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe YAML loading that reads plain scalars as Go's yaml.v2 does (the reference's parser):
    YAML 1.1 booleans plus ``y``/``n``, Go's number syntax, and timestamps kept as strings."""

    bool_values = {**yaml.SafeLoader.bool_values, "y": True, "n": False}

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            if value in ("y", "Y", "n", "N"):
                return _BOOL_TAG
            if value and value[0] in _NUMERIC_START:
                number = go_yaml_number(value)
                if number is not None:
                    return _INT_TAG if isinstance(number, int) else _FLOAT_TAG
                tag = super().resolve(kind, value, implicit)
                return _STR_TAG if tag in (_INT_TAG, _FLOAT_TAG) else tag
        return super().resolve(kind, value, implicit)

    def construct_go_number(self, node: yaml.ScalarNode) -> object:
        number = go_yaml_number(node.value)
        if number is not None:
            return number
        # An explicit !!int / !!float tag on something Go would not read: PyYAML's rules decide.
        if node.tag == _INT_TAG:
            return self.construct_yaml_int(node)
        return self.construct_yaml_float(node)


# yaml.v2 keeps timestamps as strings in untyped values and has no "=" value type (SafeLoader
# would even refuse "=" as an unknown tag).
_NOT_RESOLVED = ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value")
AwsAuthLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _NOT_RESOLVED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
AwsAuthLoader.add_constructor(_INT_TAG, AwsAuthLoader.construct_go_number)
AwsAuthLoader.add_constructor(_FLOAT_TAG, AwsAuthLoader.construct_go_number)


def _yaml_error_text(err: yaml.YAMLError) -> tuple[str, int | None, int | None]:
    """A short message without the source snippet PyYAML likes to quote."""
    if isinstance(err, yaml.MarkedYAMLError):
        parts = [p for p in (err.context, err.problem) if p]
        mark = err.problem_mark or err.context_mark
        text = ": ".join(parts) or "invalid YAML"
        if mark is not None:
            return f"{text} (line {mark.line + 1}, column {mark.column + 1})", mark.line + 1, mark.column + 1
        return text, None, None
    return type(err).__name__, None, None


def _first_document(text: str, *, construct: bool = True) -> tuple[yaml.Node | None, object, bool]:
    """(node, value, more documents follow) of the first YAML document, in one parse.

    Raises yaml.YAMLError for the first document only: like yaml.v2, later ones are not read."""
    loader = AwsAuthLoader(text)
    try:
        node = loader.get_node() if loader.check_node() else None
        try:
            more = loader.check_node()
        except yaml.YAMLError:
            more = True
        value = _construct(loader, node) if node is not None and construct else None
        return node, value, more
    finally:
        loader.dispose()


class _Recursive(Exception):
    pass


def _construct(loader: AwsAuthLoader, root: yaml.Node) -> object:
    """What ``loader.construct_document(root)`` returns, about twice as fast for plain documents
    (a 10,000-entry section must lint in well under a second). Anything unusual — merge keys,
    tags, recursive anchors — goes through PyYAML's own constructor."""
    done: dict[int, object] = {}  # id(node) -> value: aliases share one object, as in PyYAML
    active: set[int] = set()

    def build(node: yaml.Node) -> object:
        if isinstance(node, yaml.ScalarNode):
            return node.value if node.tag == _STR_TAG else loader.construct_object(node, deep=True)
        key = id(node)
        if key in done:
            return done[key]
        if key in active:
            raise _Recursive
        active.add(key)
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG:
            value: object = [build(child) for child in node.value]
        elif isinstance(node, yaml.MappingNode) and node.tag == _MAP_TAG:
            if any(k.tag == _MERGE_TAG for k, _ in node.value):
                raise _Recursive
            mapping: dict[object, object] = {}
            for key_node, value_node in node.value:
                item_key = build(key_node)
                if isinstance(item_key, list | dict):
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
                    )
                mapping[item_key] = build(value_node)
            value = mapping
        else:
            raise _Recursive
        active.discard(key)
        done[key] = value
        return value

    try:
        return build(root)
    except _Recursive:
        return loader.construct_document(root)


def load_yaml(text: str) -> object:
    """The first YAML document of ``text`` with :class:`AwsAuthLoader`; raises yaml.YAMLError."""
    return _first_document(text)[1]


def compose_yaml(text: str) -> yaml.Node | None:
    """The node tree of the first document (positions, raw scalar text) for the linter."""
    return _first_document(text)[0]


# ---------------------------------------------------------------------------------------------
# Results


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


@dataclass(frozen=True, slots=True)
class SectionResult:
    name: str  # "mapRoles" | "mapUsers" | "mapAccounts"
    present: bool  # the key exists in data
    raw: object  # data[name] as given (a str in a real ConfigMap)
    decoded: object  # the YAML value of the section, None when blank/absent/failed
    entries: tuple[EntryResult, ...] = ()  # mapRoles / mapUsers
    accounts: tuple[str, ...] = ()  # mapAccounts, raw text
    error: str | None = None  # why the section failed; then the last good value is used
    error_line: int | None = None  # 1-based, inside the section string
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


class ManifestError(UserError, ValueError):
    """The aws-auth manifest file is not YAML or holds no usable ConfigMap."""


class MappingConfigError(UserError, ValueError):
    """Invalid mappings in the server config (the server refuses to start)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid mapping: " + "; ".join(self.problems))


# ---------------------------------------------------------------------------------------------
# Entries


def _key_text(key: object) -> str:
    # How sigs.k8s.io/yaml turns non-string YAML keys into JSON keys.
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


# Go's case-insensitive key match also folds these two onto ASCII letters (U+017F long s, U+212A Kelvin sign).
_GO_EXTRA_FOLDS = {0x17F: "s", 0x212A: "k"}


def _fold_keys(item: Mapping[object, object], known: Sequence[str]) -> tuple[dict, dict, tuple[str, ...]]:
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


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__


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
        self.issue("wrong_type", f"{name} is {_type_name(value)}, not a string: the field is ignored", key=key)
        return ""

    def groups(self, fields: Mapping[str, object]) -> tuple[str, ...]:
        value = fields.get("groups")
        if value is None:
            return ()
        name = self.spellings.get("groups", "groups")
        if not isinstance(value, list):
            self.issue(
                "wrong_type", f"{name} is {_type_name(value)}, not a list: the entry gets no groups", key="groups"
            )
            return ()
        out: list[str] = []
        for position, group in enumerate(value):
            if isinstance(group, str):
                out.append(group)
            else:
                self.issue(
                    "group_dropped", f"{name}[{position}] is {_type_name(group)}, not a string: dropped", key="groups"
                )
        return tuple(out)

    def sso(self, fields: Mapping[str, object]) -> tuple[str, str, str] | None:
        value = fields.get("sso")
        if value is None:
            return None
        name = self.spellings.get("sso", "sso")
        if not isinstance(value, dict):
            self.issue("wrong_type", f"{name} is {_type_name(value)}, not a mapping: the field is ignored", key="sso")
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


def _parse_role(item: object, index: int, section: str) -> EntryResult:
    if not isinstance(item, dict):
        issue = Issue(
            section, index, "entry_not_mapping", f"entry is {_type_name(item)}, not a mapping: dropped", "error"
        )
        return EntryResult(index, item, {}, {}, (), None, (issue,))
    fields, spellings, unknown = _fold_keys(item, ROLE_KEYS)
    reader = _EntryReader(section, index, spellings)
    for key in unknown:
        reader.issue("unknown_key", f"unknown key {key!r} is ignored", "info")
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
    return EntryResult(index, item, fields, spellings, unknown, mapping, tuple(reader.issues))


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


def _parse_user(item: object, index: int, section: str) -> EntryResult:
    if not isinstance(item, dict):
        issue = Issue(
            section, index, "entry_not_mapping", f"entry is {_type_name(item)}, not a mapping: dropped", "error"
        )
        return EntryResult(index, item, {}, {}, (), None, (issue,))
    fields, spellings, unknown = _fold_keys(item, USER_KEYS)
    reader = _EntryReader(section, index, spellings)
    for key in unknown:
        reader.issue("unknown_key", f"unknown key {key!r} is ignored", "info")
    userarn = reader.string(fields, "userarn")
    username = reader.string(fields, "username")
    groups = reader.groups(fields)
    userid = reader.string(fields, "userid") or None
    mapping: UserMapping | None = None
    if not userarn:
        reader.issue("entry_invalid", "value for userarn must be supplied: entry dropped", "error")
    else:
        mapping = UserMapping(userarn=userarn, username=username, groups=groups, userid=userid)
    return EntryResult(index, item, fields, spellings, unknown, mapping, tuple(reader.issues))


def _duplicate_issues(section: str, entries: Sequence[EntryResult]) -> list[Issue]:
    seen: dict[object, int] = {}
    issues: list[Issue] = []
    for entry in entries:
        m = entry.mapping
        if m is None:
            continue
        if isinstance(m, RoleMapping):
            key: object = m.rolearn.lower() if m.rolearn else ("sso", m.sso)
            label = f"rolearn {m.rolearn}" if m.rolearn else f"sso {m.sso.permission_set_name}@{m.sso.account_id}"
        else:
            key, label = m.userarn.lower(), f"userarn {m.userarn}"
        if key in seen:
            issues.append(
                Issue(
                    section,
                    entry.index,
                    "duplicate",
                    f"{label} duplicates {section}[{seen[key]}]: the last entry wins, the earlier one is dead",
                    "warning",
                )
            )
        seen[key] = entry.index
    return issues


def parse_role_entries(items: Sequence[object], section: str = MAP_ROLES) -> tuple[EntryResult, ...]:
    """Every list item of a mapRoles section (or server.mapRoles), reference semantics."""
    entries = [_parse_role(item, i, section) for i, item in enumerate(items)]
    return _with_duplicates(section, entries)


def parse_user_entries(items: Sequence[object], section: str = MAP_USERS) -> tuple[EntryResult, ...]:
    """Every list item of a mapUsers section (or server.mapUsers), reference semantics."""
    entries = [_parse_user(item, i, section) for i, item in enumerate(items)]
    return _with_duplicates(section, entries)


def _with_duplicates(section: str, entries: list[EntryResult]) -> tuple[EntryResult, ...]:
    by_index = {e.index: e for e in entries}
    for issue in _duplicate_issues(section, entries):
        entry = by_index[issue.index]
        by_index[issue.index] = EntryResult(
            entry.index,
            entry.raw,
            entry.fields,
            entry.spellings,
            entry.unknown_keys,
            entry.mapping,
            (*entry.issues, issue),
        )
    return tuple(by_index[e.index] for e in entries)


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


# ---------------------------------------------------------------------------------------------
# Sections


@dataclass(frozen=True, slots=True)
class DecodedSection:
    """One data section string, decoded. ``node``/``value`` are None when blank or failed."""

    node: yaml.Node | None = None  # the composed first document (positions, raw scalar text)
    value: object = None  # its constructed value (not built for mapAccounts, which reads the node)
    more_documents: bool = False
    error: str | None = None
    error_line: int | None = None  # 1-based, inside the section string
    error_column: int | None = None


def decode_section(name: str, raw: object) -> DecodedSection:
    """Decode ``data[name]`` as the server does (blank forms are empty; only the first document)."""
    if not isinstance(raw, str):
        return DecodedSection(error=f"data.{name} is {_type_name(raw)}; it must be a string (a `|` block)")
    if raw.strip() in BLANK_SECTION_VALUES:
        return DecodedSection()
    try:
        node, value, more = _first_document(raw, construct=name != MAP_ACCOUNTS)
    except yaml.YAMLError as err:
        message, line, column = _yaml_error_text(err)
        return DecodedSection(error=f"{name} is not valid YAML: {message}", error_line=line, error_column=column)
    return DecodedSection(node, value, more)


def _parse_section(name: str, data: Mapping[str, object]) -> SectionResult:
    if name not in data:
        return SectionResult(name, False, None, None)
    raw = data[name]
    decoded = decode_section(name, raw)
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
        error = f"{name} is {_type_name(value)}, not a list"
        issue = Issue(name, None, "section_invalid", error, "error")
        return SectionResult(name, True, raw, value, error=error, issues=(issue,))
    entries = parse_role_entries(value, name) if name == MAP_ROLES else parse_user_entries(value, name)
    issues = (*extra, *(i for e in entries for i in e.issues))
    return SectionResult(name, True, raw, value, entries=entries, issues=issues)


def parse_aws_auth(data: Mapping[str, object] | None, previous: AwsAuthResult | None = None) -> AwsAuthResult:
    """Parse the ``data`` of an aws-auth ConfigMap.

    A section that fails keeps its value from ``previous`` (the last result, itself already
    last-known-good), or is empty on a first load. An absent section is empty.
    """
    data = data or {}
    sections = {name: _parse_section(name, data) for name in SECTIONS}
    effective: dict[str, tuple] = {}
    for name, section in sections.items():
        if section.error is None:
            if name == MAP_ACCOUNTS:
                effective[name] = section.accounts
            else:
                effective[name] = tuple(e.mapping for e in section.entries if e.mapping is not None)
            continue
        if previous is not None:
            sections[name] = _replace_kept(section)
            effective[name] = {MAP_ROLES: previous.roles, MAP_USERS: previous.users, MAP_ACCOUNTS: previous.accounts}[
                name
            ]
        else:
            effective[name] = ()
    return AwsAuthResult(effective[MAP_ROLES], effective[MAP_USERS], effective[MAP_ACCOUNTS], sections)


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


# ---------------------------------------------------------------------------------------------
# Manifest files and the server config


def _documents(text: str) -> list[object]:
    try:
        return [doc for doc in yaml.load_all(text, Loader=AwsAuthLoader) if doc is not None]
    except yaml.YAMLError as err:
        raise ManifestError(f"not valid YAML: {_yaml_error_text(err)[0]}") from None


def _config_maps(docs: Iterable[object]) -> list[dict]:
    found: list[dict] = []
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            found.extend(_config_maps(doc["items"]))
        elif doc.get("kind") == "ConfigMap":
            found.append(doc)
    return found


def load_configmap_manifest(text: str) -> dict[str, object]:
    """The ``data`` of the aws-auth ConfigMap in a manifest file (one or more YAML documents,
    or a ``kind: List``). Prefers the ConfigMap named ``aws-auth``; a single ConfigMap with
    another name is accepted too. Raises ManifestError."""
    config_maps = _config_maps(_documents(text))
    named = [
        cm for cm in config_maps if isinstance(cm.get("metadata"), dict) and cm["metadata"].get("name") == "aws-auth"
    ]
    chosen = named or config_maps
    if not chosen:
        raise ManifestError("no ConfigMap found (expected kind: ConfigMap, metadata.name: aws-auth)")
    if len(chosen) > 1:
        raise ManifestError("several candidate aws-auth ConfigMaps in one file")
    data = chosen[0].get("data")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ManifestError("ConfigMap data is not a mapping")
    return {str(k): v for k, v in data.items()}


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
    parsed: dict[str, tuple] = {}
    for name, items, parse in (
        ("server.mapRoles", map_roles, parse_role_entries),
        ("server.mapUsers", map_users, parse_user_entries),
    ):
        if items is None:
            parsed[name] = ()
            continue
        if not isinstance(items, list | tuple):
            problems.append(f"{name} must be a list")
            parsed[name] = ()
            continue
        entries = parse(list(items), name)
        for entry in entries:
            for issue in entry.issues:
                if issue.severity == "error" or issue.code in ("wrong_type", "group_dropped"):
                    problems.append(f"{name}[{issue.index}]: {issue.message}")
                else:
                    warnings.append(issue)
        parsed[name] = tuple(e.mapping for e in entries if e.mapping is not None)
    accounts: list[str] = []
    if map_accounts is not None and not isinstance(map_accounts, list | tuple):
        problems.append("server.mapAccounts must be a list")
    for i, account in enumerate(map_accounts or ()):
        if isinstance(account, str):
            accounts.append(account)
        elif isinstance(account, int) and not isinstance(account, bool):
            # A YAML loader already made it a number: leading zeros may be gone. Quote account ids.
            accounts.append(str(account))
            if not ACCOUNT_ID_RE.fullmatch(str(account)):
                problems.append(f"server.mapAccounts[{i}]: {account} is not 12 digits (quote account ids)")
        else:
            problems.append(f"server.mapAccounts[{i}] is {_type_name(account)}, not an account id")
    if problems:
        raise MappingConfigError(problems)
    return MappingSet(parsed["server.mapRoles"], parsed["server.mapUsers"], tuple(accounts)), tuple(warnings)
