"""Reads lint inputs into targets: each aws-auth object with its sections as the server sees them.

A *target* is one thing the server could load mappings from: an aws-auth ConfigMap (in a
manifest with one or more documents, or a ``kind: List``), the ``server:`` section of the
server's config file, or a DynamicFile JSON document. For each section the target keeps

- the server's view, from :mod:`authenticator.mapping.awsauth` (``decode_section`` and
  ``section_result``, the two halves of ``parse_aws_auth``, and its entry parsers: which entries
  are kept, with which fields, and the parser's own issues);
- the node tree of that same decoding (key spellings, scalar styles, tags, positions), mapped
  back to the outer file by :mod:`authenticator.lint.positions`.

Every section is read once, by the server's YAML loader: what the rules look at is what the
server looked at.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import yaml

from authenticator.lint.positions import IDENTITY, SectionMap, TextIndex
from authenticator.mapping.awsauth import SECTIONS, SectionResult, decode_section, section_result
from authenticator.mapping.entries import EntryResult, parse_role_entries, parse_user_entries
from authenticator.mapping.server_mappings import MappingConfigError, parse_server_mappings
from authenticator.mapping.yamlv2 import AwsAuthLoader

__all__ = ["Entry", "Section", "Target", "load_targets", "looks_like_section_key"]

MAP_ROLES, MAP_USERS, MAP_ACCOUNTS = SECTIONS
_MENTIONS_AWS_AUTH = re.compile(r"aws-auth|map_?(?:roles|users|accounts)", re.IGNORECASE)
_SECTION_NORMAL = {s.lower(): s for s in SECTIONS}


def looks_like_section_key(key: str) -> str | None:
    """The real section a data key was meant to be (``map_roles`` -> ``mapRoles``), if any."""
    normal = key.lower().replace("_", "").replace("-", "").replace(" ", "")
    return _SECTION_NORMAL.get(normal)


@dataclass(eq=False)
class Entry:
    section: Section
    index: int
    node: yaml.Node  # the list item, in section coordinates
    result: EntryResult  # the server's reading of it
    keys: list[tuple[str, yaml.Node, yaml.Node]] = field(default_factory=list)  # (spelling, key, value)
    cache: dict[str, object] = field(default_factory=dict)  # facts several rules share
    # What most rules ask first, computed once (the server's reading of the entry):
    arn: str | None = field(init=False, default=None)  # rolearn (mapRoles) or userarn (mapUsers)
    username: str = field(init=False, default="")
    groups: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        # spelling -> (key node, value node); the last of exact duplicates wins, as in PyYAML.
        self._nodes = {text: (key, value) for text, key, value in self.keys}
        fields = self.result.fields
        arn = fields.get("rolearn" if self.section.name == MAP_ROLES else "userarn")
        self.arn = arn if isinstance(arn, str) else None
        username = fields.get("username")
        self.username = username if isinstance(username, str) else ""
        mapping = self.result.mapping
        if mapping is not None:
            self.groups = mapping.groups
        else:
            value = fields.get("groups")
            self.groups = tuple(g for g in value if isinstance(g, str)) if isinstance(value, list) else ()

    @property
    def kept(self) -> bool:
        return self.result.mapping is not None

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.node, yaml.MappingNode)

    def pairs(self, lower: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """Every (spelling, key node, value node) whose key is ``lower`` case-insensitively."""
        return [k for k in self.keys if k[0].lower() == lower]

    def value_node(self, lower: str) -> yaml.Node | None:
        """The value node the server reads for ``lower`` (the spelling that won)."""
        spelling = self.result.spellings.get(lower)
        if spelling is not None and spelling in self._nodes:
            return self._nodes[spelling][1]
        found = self.pairs(lower) if spelling is not None else ()
        return found[-1][2] if found else None

    def key_node(self, lower: str) -> yaml.Node | None:
        spelling = self.result.spellings.get(lower)
        if spelling is not None and spelling in self._nodes:
            return self._nodes[spelling][0]
        found = self.pairs(lower)
        return found[-1][1] if found else None

    def string(self, lower: str) -> str | None:
        value = self.result.fields.get(lower)
        return value if isinstance(value, str) else None

    @property
    def span(self) -> tuple[int, int]:
        first = self.section.pos(self.node)[0]
        last = self.section.pos_line(_last_line(self.node))
        return first, max(first, last)


@dataclass(eq=False)
class Section:
    target: Target
    name: str  # mapRoles | mapUsers | mapAccounts
    label: str  # how messages name it: "mapRoles", "server.mapRoles"
    key_node: yaml.Node | None  # the outer key (None for DynamicFile top-level lists too)
    value_node: yaml.Node  # the outer value
    text: str | None  # the section string (None when the section is a real YAML list)
    map: SectionMap
    root: yaml.Node | None  # composed tree of the section (inner coordinates)
    compose_error: tuple[str, int, int] | None  # (message, inner line, inner column), 0-based
    result: SectionResult
    entries: list[Entry] = field(default_factory=list)

    def pos(self, node: yaml.Node | yaml.Mark | None) -> tuple[int, int]:
        """1-based outer (line, column) of a node (its start) or mark of this section."""
        if node is None:
            return self.value_pos
        mark = node.start_mark if isinstance(node, yaml.Node) else node
        line, column = self.map.to_outer(mark.line, mark.column)
        return line + 1, column + 1

    def pos_at(self, line: int, column: int) -> tuple[int, int]:
        """1-based outer position of a 0-based inner (line, column)."""
        outer_line, outer_column = self.map.to_outer(line, column)
        return outer_line + 1, outer_column + 1

    def pos_line(self, inner_line: int) -> int:
        return self.map.to_outer(inner_line, 0)[0] + 1

    @property
    def value_pos(self) -> tuple[int, int]:
        mark = self.value_node.start_mark
        return mark.line + 1, mark.column + 1

    @property
    def key_pos(self) -> tuple[int, int]:
        node = self.key_node or self.value_node
        return node.start_mark.line + 1, node.start_mark.column + 1

    def offset(self, node_or_line: yaml.Node | int, column: int | None = None) -> int | None:
        """Outer text offset of an inner position, when edits are possible here."""
        if not self.map.editable:
            return None
        if isinstance(node_or_line, int):
            line, col = self.map.to_outer(node_or_line, column or 0)
        else:
            mark = node_or_line.start_mark
            line, col = self.map.to_outer(mark.line, mark.column)
        return self.target.index.offset(line, col)

    def lines(self) -> list[str]:
        return self.text.split("\n") if self.text is not None else []


@dataclass(eq=False)
class Target:
    path: str
    text: str
    index: TextIndex
    kind: str  # "configmap" | "server-config" | "dynamicfile" | "invalid"
    document: int = 0
    root: yaml.Node | None = None
    error: tuple[str, int, int] | None = None  # the file is not YAML: (message, line, column) 1-based
    api_kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    object_node: yaml.Node | None = None  # the ConfigMap's mapping node
    data_node: yaml.Node | None = None
    data_keys: list[tuple[str, yaml.Node, yaml.Node]] = field(default_factory=list)
    sections: dict[str, Section] = field(default_factory=dict)
    cache: dict[str, object] = field(default_factory=dict)  # facts several rules share
    # server config / DynamicFile: "server.mapRoles[3]" -> why the server rejects the whole thing
    startup_problems: dict[str, str] = field(default_factory=dict)
    startup_effect: str = ""

    def entries(self) -> list[Entry]:
        """Every entry of every section, in file order (computed once: rules call this a lot)."""
        cached = self.cache.get("entries")
        if cached is None:
            cached = [entry for section in self.sections.values() for entry in section.entries]
            self.cache["entries"] = cached
        return cached  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------


def _last_line(node: yaml.Node) -> int:
    while True:
        if isinstance(node, yaml.MappingNode) and node.value:
            node = node.value[-1][1]
        elif isinstance(node, yaml.SequenceNode) and node.value:
            node = node.value[-1]
        else:
            end = node.end_mark
            # A block collection's end mark sits on the next token's line.
            if isinstance(node, yaml.ScalarNode) and end.column == 0 and end.line > node.start_mark.line:
                return end.line - 1
            return end.line


def _mapping_get(node: yaml.Node | None, key: str, *, fold: bool = False) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and (k.value == key or (fold and k.value.lower() == key.lower())):
            found: yaml.Node = v
            return found
    return None


def _scalar(node: yaml.Node | None) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _section_map(node: yaml.Node, index: TextIndex) -> SectionMap:
    start = (node.start_mark.line, node.start_mark.column)
    style = getattr(node, "style", None)
    if not isinstance(node, yaml.ScalarNode):
        return IDENTITY
    if style == "|":
        first_content = node.start_mark.line + 1
        indent = 0
        for line in range(first_content, node.end_mark.line + 1):
            text = index.line_text(line)
            if text.strip():
                indent = len(text) - len(text.lstrip(" "))
                break
        header = index.line_text(node.start_mark.line)[node.start_mark.column :]
        digits = [c for c in header.split("#", 1)[0] if c.isdigit()]
        if digits:
            # An explicit indentation indicator: relative to the parent key's indentation.
            parent = index.line_text(node.start_mark.line)
            indent = len(parent) - len(parent.lstrip(" ")) + int(digits[0])
        return SectionMap("literal", base_line=first_content, indent=indent, start=start, outer=index)
    if style == '"':
        return SectionMap("double", start=start, outer=index)
    if style == "'":
        return SectionMap("single", start=start, outer=index)
    return SectionMap("start", start=start, outer=index)


def _yaml_problem(err: yaml.YAMLError) -> tuple[str, int, int]:
    """(message, line, column), 0-based, of what the loader raised: without PyYAML's snippet."""
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        message = ": ".join(p for p in (err.context, err.problem) if p) or "invalid YAML"
        return message, mark.line if mark else 0, mark.column if mark else 0
    return str(err), 0, 0


def _entries(section: Section) -> list[Entry]:
    root = section.root
    results = section.result.entries
    if not isinstance(root, yaml.SequenceNode) or len(root.value) != len(results):
        return []
    out: list[Entry] = []
    for item, result in zip(root.value, results, strict=True):
        keys = []
        if isinstance(item, yaml.MappingNode):
            keys = [(k.value if isinstance(k, yaml.ScalarNode) else "", k, v) for k, v in item.value]
        out.append(Entry(section, result.index, item, result, keys))
    return out


def _string_section(target: Target, name: str, key_node: yaml.Node | None, value_node: yaml.Node) -> Section:
    if isinstance(value_node, yaml.ScalarNode) and value_node.tag == "tag:yaml.org,2002:str":
        text: str | None = value_node.value
        raw: object = text
        smap = _section_map(value_node, target.index)
    else:
        # Not a string (a list, a map, a number): the server fails the section (AA003).
        text, raw, smap = None, _construct_outer(value_node), IDENTITY
    # One decoding, the server's: its node tree gives the rules positions, styles and tags, and
    # the same parse is what the server's section reading starts from.
    decoded = decode_section(name, raw)
    result = section_result(name, raw, decoded)
    error = _yaml_problem(decoded.yaml_error) if decoded.yaml_error is not None else None
    section = Section(target, name, name, key_node, value_node, text, smap, decoded.node, error, result)
    section.entries = _entries(section)
    return section


def _list_section(target: Target, name: str, label: str, key_node: yaml.Node | None, value_node: yaml.Node) -> Section:
    """server.mapRoles & co, DynamicFile lists: real YAML/JSON lists read by the entry parsers."""
    value = _construct_outer(value_node)
    if name == MAP_ACCOUNTS or not isinstance(value, list):
        result = SectionResult(
            name, True, value, value, accounts=tuple(str(v) for v in value) if isinstance(value, list) else ()
        )
        if not isinstance(value, list) and value is not None:
            result = SectionResult(name, True, value, value, error=f"{label} is not a list")
    else:
        parse = parse_role_entries if name == MAP_ROLES else parse_user_entries
        entries = parse(value, label)
        result = SectionResult(
            name, True, value, value, entries=entries, issues=tuple(i for e in entries for i in e.issues)
        )
    section = Section(target, name, label, key_node, value_node, None, IDENTITY, value_node, None, result)
    section.entries = _entries(section)
    return section


_LOADER = AwsAuthLoader("")


def _construct_outer(node: yaml.Node) -> object:
    try:
        return _LOADER.construct_document(node)
    except yaml.YAMLError:
        return None


def _looks_like_aws_auth(node: yaml.MappingNode) -> bool:
    data = _mapping_get(node, "data")
    if isinstance(data, yaml.MappingNode):
        for k, _ in data.value:
            if isinstance(k, yaml.ScalarNode) and looks_like_section_key(k.value):
                return True
    metadata = _mapping_get(node, "metadata")
    return _scalar(_mapping_get(metadata, "name")) == "aws-auth"


def _configmap_target(path: str, text: str, index: TextIndex, doc: int, node: yaml.MappingNode) -> Target:
    metadata = _mapping_get(node, "metadata")
    target = Target(
        path,
        text,
        index,
        "configmap",
        document=doc,
        root=node,
        api_kind=_scalar(_mapping_get(node, "kind")),
        name=_scalar(_mapping_get(metadata, "name")),
        namespace=_scalar(_mapping_get(metadata, "namespace")),
        object_node=node,
    )
    data = _mapping_get(node, "data")
    target.data_node = data
    if isinstance(data, yaml.MappingNode):
        for key_node, value_node in data.value:
            key = _scalar(key_node) or ""
            target.data_keys.append((key, key_node, value_node))
            if key in SECTIONS:
                target.sections[key] = _string_section(target, key, key_node, value_node)
    return target


def _startup_problems(server: yaml.Node | None) -> dict[str, str]:
    """What makes the server refuse this config (its MountedFile mappings are read strictly)."""
    values = _construct_outer(server) if server is not None else None
    if not isinstance(values, dict):
        return {}
    fields = {str(k).lower(): v for k, v in values.items()}
    try:
        parse_server_mappings(fields.get("maproles"), fields.get("mapusers"), fields.get("mapaccounts"))
    except MappingConfigError as err:
        return _problems("; ".join(err.problems))
    return {}


def _server_config_target(path: str, text: str, index: TextIndex, doc: int, node: yaml.MappingNode) -> Target:
    target = Target(path, text, index, "server-config", document=doc, root=node)
    target.startup_problems = _startup_problems(_mapping_get(node, "server", fold=True))
    target.startup_effect = "in the server config file this stops the server from starting"
    server = _mapping_get(node, "server", fold=True)
    for name in SECTIONS:
        key_node = None
        if isinstance(server, yaml.MappingNode):
            for k, v in server.value:
                if isinstance(k, yaml.ScalarNode) and k.value.lower() == name.lower():
                    key_node = k
                    target.sections[name] = _list_section(target, name, f"server.{name}", k, v)
        del key_node
    return target


def _problems(message: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for problem in message.split("; "):
        where, _, why = problem.partition(": ")
        out.setdefault(where.split(" ")[0], why)
    return out


def _dynamic_target(path: str, text: str, index: TextIndex, doc: int, node: yaml.MappingNode) -> Target:
    target = Target(path, text, index, "dynamicfile", document=doc, root=node)
    # Imported here: the source module brings prometheus_client, which a plain lint does not need.
    from authenticator.mapping.sources.dynamicfile import DynamicFileError, parse_dynamic_file

    try:
        parse_dynamic_file(text)  # the DynamicFile source's own reader: all or nothing
    except DynamicFileError as err:
        target.startup_problems = _problems(str(err))
        target.startup_effect = "in a DynamicFile this makes the server reject the whole file"
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value in SECTIONS:
            target.sections[k.value] = _list_section(target, k.value, k.value, k, v)
    return target


def _is_server_config(node: yaml.MappingNode) -> bool:
    server = _mapping_get(node, "server", fold=True)
    if not isinstance(server, yaml.MappingNode):
        return False
    return any(isinstance(k, yaml.ScalarNode) and k.value.lower() in _SECTION_NORMAL for k, _ in server.value)


def _is_dynamic_file(node: yaml.MappingNode) -> bool:
    keys = {k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    return bool(keys & set(SECTIONS)) and "kind" not in keys and "data" not in keys


def _objects(node: yaml.Node) -> Iterator[yaml.MappingNode]:
    if not isinstance(node, yaml.MappingNode):
        return
    if _scalar(_mapping_get(node, "kind")) == "List":
        items = _mapping_get(node, "items")
        if isinstance(items, yaml.SequenceNode):
            for item in items.value:
                yield from _objects(item)
        return
    yield node


_DOCUMENT_MARKER = re.compile(r"^(?:---|\.\.\.)(?:[ \t]|$)")


def load_targets(path: str, text: str) -> list[Target]:
    """Every lintable object in ``text``, and one ``invalid`` target per YAML document that does
    not parse: PyYAML stops at a file's first error, so a broken document is blanked out (same
    lines, same offsets) and the file read again, until every document has been reached.

    A broken document is reported when it looks like aws-auth material (or comes from stdin);
    other broken YAML, such as a Helm template met by a pre-commit hook, is not ours to report."""
    if text.startswith("\ufeff"):
        text = text[1:]
    index = TextIndex(text)
    try:
        documents = list(yaml.compose_all(text, Loader=AwsAuthLoader))
    except yaml.YAMLError:
        documents = None  # read again below, one broken document at a time
    if documents is not None:
        return _targets_of(path, text, index, documents)
    lines = text.split("\n")
    masked = lines
    numbers = _DocumentNumbers(lines)
    invalid: list[Target] = []
    while True:
        try:
            documents = list(yaml.compose_all("\n".join(masked), Loader=AwsAuthLoader))
            break
        except yaml.YAMLError as err:
            message, line, column = _yaml_problem(err)
            first, first_column, end = _broken_document(masked, line, column)
            document = "\n".join(lines[first:end])
            if path == "-" or _MENTIONS_AWS_AUTH.search(document):
                doc = numbers.of(first)
                # Its text is the file with every other document blanked: the rules that scan a
                # file that does not parse (AA002, AA009) then see this document only.
                own = "\n".join(row if first <= i < end else " " * len(row) for i, row in enumerate(lines))
                invalid.append(Target(path, own, index, "invalid", document=doc, error=(message, line + 1, column + 1)))
            kept = masked[first][:first_column]
            blanked = [
                *masked[:first],
                kept + " " * (len(masked[first]) - len(kept)),
                *(" " * len(row) for row in masked[first + 1 : end]),
                *masked[end:],
            ]
            if blanked == masked:
                return invalid  # nothing left to blank: the rest cannot be reached
            masked = blanked
    return invalid + _targets_of(path, text, index, documents)


class _DocumentNumbers:
    """The 0-based number of the YAML document holding a 0-based line: a file's documents are
    numbered the same whether or not some of them parse."""

    def __init__(self, lines: list[str]) -> None:
        self.starts = [i for i, row in enumerate(lines) if row.startswith("---") and _DOCUMENT_MARKER.match(row)]
        # A marker before any content opens the first document rather than a second one.
        first = self.starts[0] if self.starts else 0
        self.leading = all(not row.strip() or row.lstrip().startswith(("#", "%")) for row in lines[:first])

    def of(self, line: int) -> int:
        opened = bisect.bisect_right(self.starts, line)
        return max(0, opened - (1 if self.leading and opened else 0))


def _broken_document(lines: list[str], line: int, column: int) -> tuple[int, int, int]:
    """(first line, column to blank from, end line) of the document holding an error at 0-based
    ``line``:``column``. The document marker is kept, so that the documents keep their numbers; an
    error met at the next document's marker (an unclosed bracket) belongs to the document before."""
    markers = [i for i, row in enumerate(lines) if _DOCUMENT_MARKER.match(row)]
    on_marker = line in markers and column <= 3
    before = [m for m in markers if m < line or (m == line and not on_marker)]
    first = before[-1] if before else 0
    after = [m for m in markers if m > first and m >= line]
    end = after[0] if after else len(lines)
    first_column = 3 if first in markers else 0
    return first, min(first_column, len(lines[first])), max(end, first + 1)


def _targets_of(path: str, text: str, index: TextIndex, documents: list[yaml.Node]) -> list[Target]:
    targets: list[Target] = []
    numbers = _DocumentNumbers(text.split("\n")) if len(documents) > 1 else None
    for root in documents:
        doc = numbers.of(root.start_mark.line) if numbers is not None else 0
        for obj in _objects(root):
            if _scalar(_mapping_get(obj, "kind")) is not None or _mapping_get(obj, "data") is not None:
                if _looks_like_aws_auth(obj):
                    targets.append(_configmap_target(path, text, index, doc, obj))
            elif _is_server_config(obj):
                targets.append(_server_config_target(path, text, index, doc, obj))
            elif _is_dynamic_file(obj):
                targets.append(_dynamic_target(path, text, index, doc, obj))
    return targets
