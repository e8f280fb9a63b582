"""Facts several rules share: ARN shapes, well-known groups, node entries, safe edits."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import TypeVar, cast

import yaml

from authenticator.lint.document import Entry, Section, Target
from authenticator.lint.findings import Edit
from authenticator.mapping.templates import PLACEHOLDERS
from authenticator.partitions import PARTITIONS

MAP_ROLES, MAP_USERS, MAP_ACCOUNTS = "mapRoles", "mapUsers", "mapAccounts"
STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"

NODE_GROUPS = ("system:bootstrappers", "system:nodes")
KNOWN_SYSTEM_GROUPS = ("system:masters", "system:nodes", "system:bootstrappers", "system:node-proxier")
# Real Kubernetes groups that are not typos of the ones above (AA403 warns about them instead).
OTHER_SYSTEM_GROUPS = (
    "system:authenticated",
    "system:unauthenticated",
    "system:serviceaccounts",
    "system:monitoring",
    "system:public-info-viewer",
)
NODE_USERNAMES = ("system:node:{{EC2PrivateDNSName}}", "system:node:{{SessionName}}")
PLACEHOLDER_SET = frozenset(PLACEHOLDERS)
TEMPLATE_RE = re.compile(r"\{\{(.*?)\}\}")
EXAMPLE_ACCOUNTS = frozenset({"111122223333", "123456789012", "444455556666", "000000000000", "999999999999"})
# Template leftovers anywhere in an ARN; an account field with letters in it (ACCOUNT_ID,
# XXXXXXXXXXXX, your-account) is a placeholder too.
PLACEHOLDER_RE = re.compile(r"<[^<>]*>|\$\{[^}]*\}|\$\(|\$[A-Z_]{3,}|\{\{|REPLACE[_-]?ME|CHANGE[_-]?ME", re.IGNORECASE)
_LETTER = re.compile(r"[A-Za-z]")
ARN_SHAPE = re.compile(r"^arn:(?P<partition>[^:]*):iam::(?P<account>[0-9]{12}):(?P<kind>role|user)/(?P<name>.+)$")
SSO_PATH_RE = re.compile(r"^role/aws-reserved/sso\.amazonaws\.com/(?:[a-z0-9-]+/)?(AWSReservedSSO_.+)$", re.IGNORECASE)


class ArnFacts:
    """The fields of an ARN-ish string, split once (malformed input gives empty fields)."""

    __slots__ = ("account", "kind", "partition", "parts", "resource", "service", "text")

    def __init__(self, text: str) -> None:
        parts = tuple(text.split(":", 5))
        self.text = text
        self.parts = parts
        self.partition = parts[1] if len(parts) > 1 else ""
        self.service = parts[2] if len(parts) > 2 else ""
        self.account = parts[4] if len(parts) > 4 else ""
        self.resource = parts[5] if len(parts) > 5 else ""
        self.kind = self.resource.split("/", 1)[0]


@lru_cache(maxsize=65536)
def arn_facts(text: str) -> ArnFacts:
    return ArnFacts(text)


_NOT_VISIBLE_ASCII = re.compile(r"[^\x21-\x7e]")


# Each predicate decides one specific ARN mistake; AA201 fires only when none of them does.
def is_sts_arn(arn: str) -> bool:
    f = arn_facts(arn)
    return f.service == "sts" and f.kind == "assumed-role"


def is_instance_profile(arn: str) -> bool:
    return ":instance-profile/" in arn


def is_group_arn(arn: str) -> bool:
    f = arn_facts(arn)
    return f.service == "iam" and f.kind == "group"


def has_wildcard(arn: str) -> bool:
    return "*" in arn or "?" in arn


def bad_partition(arn: str) -> bool:
    f = arn_facts(arn)
    return arn.startswith("arn:") and len(f.parts) == 6 and f.partition not in PARTITIONS


def bad_characters(arn: str) -> bool:
    return _NOT_VISIBLE_ASCII.search(arn) is not None


def placeholder_in(arn: str) -> str | None:
    """The placeholder left in an ARN, if any."""
    match = PLACEHOLDER_RE.search(arn)
    if match:
        return match.group(0)
    account = arn_facts(arn).account
    if account and _LETTER.search(account):
        return account
    return None


def has_placeholder(arn: str) -> bool:
    return placeholder_in(arn) is not None


def has_example_account(arn: str) -> bool:
    return arn_facts(arn).account in EXAMPLE_ACCOUNTS


def specific_arn_problem(arn: str) -> bool:
    return (
        is_sts_arn(arn)
        or is_instance_profile(arn)
        or is_group_arn(arn)
        or has_wildcard(arn)
        or bad_partition(arn)
        or bad_characters(arn)
        or has_placeholder(arn)
    )


def role_path(arn: str) -> str | None:
    """The role name when a role ARN has a path (not the SSO one, AA203), else None."""
    f = arn_facts(arn)
    if f.service != "iam" or f.kind != "role":
        return None
    rest = f.resource[len("role/") :]
    if "/" not in rest or SSO_PATH_RE.match(f.resource):
        return None
    return rest.rsplit("/", 1)[1] or None


_T = TypeVar("_T")


def _memo(cache: dict[str, object], key: str, compute: Callable[[], _T]) -> _T:
    """``compute()``, computed once per target or entry and kept in its ``cache`` under ``key``."""
    if key not in cache:
        cache[key] = compute()
    # Only _memo stores under these keys, each always from the same function: the type holds.
    return cast(_T, cache[key])


def entry_arn(entry: Entry) -> tuple[str, str, yaml.Node] | None:
    """(key, arn, value node) of the rolearn/userarn string the server reads from an entry."""
    key = "rolearn" if entry.section.name == MAP_ROLES else "userarn"
    arn = entry.string(key)
    if not arn:
        return None
    node = entry.value_node(key)
    return (key, arn, node) if node is not None else None


def arn_entries(target: Target) -> list[tuple[Entry, str, str, yaml.Node]]:
    """(entry, key, arn, value node) for every rolearn/userarn string the server reads."""

    def compute() -> list[tuple[Entry, str, str, yaml.Node]]:
        found: list[tuple[Entry, str, str, yaml.Node]] = []
        for entry in target.entries():
            arn = entry_arn(entry)
            if arn is not None:
                found.append((entry, *arn))
        return found

    return _memo(target.cache, "arn_entries", compute)


def is_node_entry(entry: Entry) -> bool:
    return _memo(
        entry.cache,
        "node",
        lambda: (
            entry.section.name == MAP_ROLES
            and (any(g in NODE_GROUPS for g in entry.groups) or entry.username.startswith("system:node:"))
        ),
    )


def role_name(arn: str) -> str:
    return arn_facts(arn).resource.rsplit("/", 1)[-1]


def is_fargate_entry(entry: Entry) -> bool:
    arn = entry.arn or ""
    return is_node_entry(entry) and "fargate" in role_name(arn).lower()


def template_nodes(entry: Entry) -> list[tuple[str, str, yaml.Node]]:
    """(field, text, node) for the username and every group string of an entry."""

    def compute() -> list[tuple[str, str, yaml.Node]]:
        found: list[tuple[str, str, yaml.Node]] = []
        username = entry.string("username")
        node = entry.value_node("username")
        if username is not None and node is not None:
            found.append(("username", username, node))
        groups_node = entry.value_node("groups")
        if isinstance(groups_node, yaml.SequenceNode):
            for item in groups_node.value:
                if isinstance(item, yaml.ScalarNode) and item.tag == STR_TAG:
                    found.append(("groups", item.value, item))
        return found

    return _memo(entry.cache, "templates", compute)


def group_nodes(entry: Entry) -> list[tuple[str, yaml.Node]]:
    return _memo(
        entry.cache,
        "groups",
        lambda: [(text, node) for name, text, node in template_nodes(entry) if name == "groups"],
    )


def scalar_edit(section: Section, node: yaml.Node, new_value: str) -> Edit | None:
    """Replace a one-line scalar's value, keeping its quoting style (plain stays plain)."""
    if not isinstance(node, yaml.ScalarNode) or node.start_mark.line != node.end_mark.line:
        return None
    start = section.offset(node)
    if start is None:
        return None
    end = start + (node.end_mark.column - node.start_mark.column)
    style = node.style
    if style == "'":
        raw = "'" + new_value.replace("'", "''") + "'"
    elif style == '"':
        if "\\" in new_value or '"' in new_value:
            return None
        raw = '"' + new_value + '"'
    elif not style:
        raw = new_value
    else:
        return None
    return Edit(start, end, raw)


def quote_edit(section: Section, node: yaml.Node, text: str | None = None) -> Edit | None:
    """Put double quotes around a one-line plain scalar (or the raw ``text`` at its position)."""
    start = section.offset(node)
    if start is None or node.start_mark.line != node.end_mark.line:
        return None
    raw = text if text is not None else node.value
    end = start + len(raw)
    if section.target.text[start:end] != raw or '"' in raw or "\\" in raw:
        return None
    return Edit(start, end, f'"{raw}"')


UNQUOTED_TEMPLATE_RE = re.compile(
    r"^(?P<prefix>[ ]*(?:-[ ]+)?(?:[A-Za-z_][\w.-]*[ ]*:[ ]+)?)(?P<value>\{\{.*?)[ ]*(?:[ ]#.*)?$"
)


def unquoted_templates(lines: list[str]) -> Iterator[tuple[int, int, str]]:
    """(line, column, raw value) of every value that starts with an unquoted ``{{``."""
    for number, line in enumerate(lines):
        if "{{" not in line:
            continue
        match = UNQUOTED_TEMPLATE_RE.match(line)
        if match:
            yield number, match.start("value"), match.group("value")


def tab_indents(lines: list[str]) -> Iterator[tuple[int, int]]:
    """(line, column) of the first tab in the indentation of each line."""
    for number, line in enumerate(lines):
        if "\t" not in line:
            continue
        body = line.lstrip(" \t")
        indent = line[: len(line) - len(body)]
        if "\t" in indent and body:
            yield number, indent.index("\t")


def section_explained(section: Section) -> bool:
    """A section failure that AA002 (unquoted template) or AA009 (tab) explains better."""
    lines = section.lines()
    return any(True for _ in unquoted_templates(lines)) or any(True for _ in tab_indents(lines))


def mentions(target: Target, needle: str, *, fold: bool = False) -> bool:
    """Whether ``needle`` occurs in the text the target's values come from.

    Every value the server reads appears verbatim in its section string (or, for real YAML
    lists, in the file), so a rule whose trigger contains ``needle`` can skip a target whose
    text lacks it — a large ConfigMap is then not walked entry by entry for nothing.
    """

    def compute() -> str:
        parts = [s.text for s in target.sections.values() if s.text is not None]
        if any(s.text is None for s in target.sections.values()):
            parts.append(target.text)
        text = "\n".join(parts)
        return text.lower() if fold else text

    return needle in _memo(target.cache, "texts_folded" if fold else "texts", compute)


def section_mentions(target: Target, name: str, needle: str | re.Pattern[str], *, fold: bool = False) -> bool:
    """Like :func:`mentions`, for one section (``needle`` may be a compiled pattern)."""
    section = target.sections.get(name)
    if section is None:
        return False
    text = section.text if section.text is not None else target.text
    if fold:
        text = text.lower()
    if isinstance(needle, re.Pattern):
        return needle.search(text) is not None
    return needle in text
