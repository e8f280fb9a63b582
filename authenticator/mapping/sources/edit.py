"""``eks-iam-authenticator add|remove role|user``: edit the ``kube-system/aws-auth`` ConfigMap.

As the reference's ``add`` command: ``--rolearn``/``--userarn``, ``--sso`` (a permission-set
matcher instead of a role ARN), ``--username``, ``--groups``, ``--kubeconfig``. Ours besides
(what keikoproj/aws-auth users rely on): ``--append`` merges groups into an existing entry
instead of refusing it as a duplicate, and ``remove`` deletes a role's or user's entries.

The existing section is read with the shared aws-auth parser: a section that does not parse is
refused (editing a broken section would hide the breakage). A new entry is appended to the
section's text, so the user's comments and formatting survive; merging into or removing an
entry rewrites the section (its comments are not kept). The write carries the resourceVersion
that was read; on a 409 Conflict (someone else wrote in between) the whole read-modify-write
is retried with a fresh read. ``add`` creates a missing ConfigMap.

The cluster is found as kubectl finds it (``--kubeconfig``, ``$KUBECONFIG``, ``~/.kube/config``,
else the in-cluster account): authenticator.kube.client.load_user_api_client, shared with
``aws-auth lint --live``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import urllib3
import yaml
from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException

from authenticator.arn import parse_arn
from authenticator.errors import UserError
from authenticator.kube.client import load_user_api_client
from authenticator.mapping.awsauth import MAP_ROLES, MAP_USERS, decode_section, parse_aws_auth
from authenticator.mapping.model import SSOMatcher
from authenticator.mapping.sources.configmap import AWS_AUTH_NAME, AWS_AUTH_NAMESPACE
from authenticator.mapping.yamlv2 import AwsAuthLoader
from authenticator.words import counted

__all__ = [
    "AddError",
    "EditError",
    "Entry",
    "add_entry",
    "adding",
    "append_entry",
    "edit_configmap",
    "merge_entry",
    "parse_sso",
    "remove_entries",
    "removing",
    "run_add",
    "run_remove",
]

Kind = Literal["role", "user"]
# A data edit: the ConfigMap's data in, the new data and what was done (for the user) out.
Change = Callable[[dict[str, str]], tuple[dict[str, str], str]]

_SSO_KEYS = ("permissionSetName", "accountID", "partition")
_WHERE = f"{AWS_AUTH_NAMESPACE}/{AWS_AUTH_NAME}"


class EditError(UserError):
    """The ConfigMap was not changed; the message is one line for the user."""


AddError = EditError  # the name the add command's callers know


def parse_sso(values: Sequence[str] | str | None) -> SSOMatcher | None:
    """``--sso permissionSetName=Admin,accountID=111122223333[,partition=aws]`` as the reference reads
    it (repeatable; later keys win); None when not given. Raises EditError."""
    if values is None or not values:
        return None
    settings: dict[str, str] = {}
    for value in [values] if isinstance(values, str) else values:
        for pair in value.split(","):
            key, sep, setting = pair.partition("=")
            if not sep:
                raise EditError(f"--sso takes KEY=VALUE pairs ({', '.join(_SSO_KEYS)}), not {pair!r}")
            if key.strip() not in _SSO_KEYS:
                raise EditError(f"unknown key {key.strip()!r} in --sso (known: {', '.join(_SSO_KEYS)})")
            settings[key.strip()] = setting.strip()
    for key in _SSO_KEYS[:2]:
        if key not in settings:
            raise EditError(f"required key {key!r} missing from --sso")
    try:
        return SSOMatcher(settings["permissionSetName"], settings["accountID"], settings.get("partition") or "aws")
    except ValueError as err:
        raise EditError(f"--sso: {err}") from None


@dataclass(frozen=True, slots=True)
class Entry:
    """One mapRoles/mapUsers entry to add (or, without username, to find for ``remove``)."""

    kind: Kind
    arn: str  # "" for an sso role entry
    username: str = ""
    groups: tuple[str, ...] = ()
    sso: SSOMatcher | None = None

    @property
    def section(self) -> str:
        return MAP_ROLES if self.kind == "role" else MAP_USERS

    @property
    def name(self) -> str:
        """How the entry is named to the user."""
        if self.sso is not None:
            sso = self.sso
            return f"sso {sso.partition}:{sso.account_id}:{sso.permission_set_name}"
        return f"{self.kind} {self.arn}"

    def identity(self) -> tuple[str, ...]:
        """What tells entries apart: the ARN, or the permission-set matcher (case-insensitively)."""
        if self.sso is not None:
            return ("sso", self.sso.partition.lower(), self.sso.account_id, self.sso.permission_set_name.lower())
        return ("arn", self.arn.lower())

    def as_yaml_item(self) -> dict[str, Any]:
        item: dict[str, Any]
        if self.sso is not None:
            sso = self.sso
            item = {"sso": {"permissionSetName": sso.permission_set_name, "accountID": sso.account_id}}
            item["sso"]["partition"] = sso.partition
        else:
            item = {"rolearn" if self.kind == "role" else "userarn": self.arn}
        item["username"] = self.username
        if self.groups:
            item["groups"] = list(self.groups)
        return item

    def validate(self, *, needs_username: bool = True) -> None:
        if self.sso is not None:
            if self.kind != "role":
                raise EditError("--sso maps a role: use `role --sso`")
            if self.arn:
                raise EditError("only one of --rolearn or --sso can be given")
        else:
            self._validate_arn()
        if needs_username and not self.username:
            raise EditError("--username is required")

    def _validate_arn(self) -> None:
        if not self.arn:
            flag = "--rolearn or --sso" if self.kind == "role" else "--userarn"
            raise EditError(f"{flag} is required")
        try:
            arn = parse_arn(self.arn)
        except ValueError as err:
            raise EditError(str(err)) from None
        resource = arn.resource.split("/", 1)[0]
        if arn.service != "iam" or resource != self.kind or "/" not in arn.resource:
            raise EditError(
                f"{self.arn} is not an IAM {self.kind} ARN (arn:<partition>:iam::<account>:{self.kind}/<name>)"
            )


def _lower_keys(item: Mapping[Any, Any]) -> dict[str, Any]:
    # Entry keys are case-insensitive (docs/mapping.md §1); the first spelling wins, as when read.
    lowered: dict[str, Any] = {}
    for key, value in item.items():
        lowered.setdefault(str(key).lower(), value)
    return lowered


def _item_identity(kind: Kind, item: object) -> tuple[str, ...] | None:
    """The identity of a raw section item, as Entry.identity; None for an item naming neither."""
    if not isinstance(item, Mapping):
        return None
    keys = _lower_keys(item)
    arn = keys.get("rolearn" if kind == "role" else "userarn")
    if isinstance(arn, str) and arn:
        return ("arn", arn.lower())
    sso = keys.get("sso") if kind == "role" else None
    if isinstance(sso, Mapping):
        fields = _lower_keys(sso)
        partition = str(fields.get("partition") or "aws")
        return (
            "sso",
            partition.lower(),
            str(fields.get("accountid", "")),
            str(fields.get("permissionsetname", "")).lower(),
        )
    return None


def _section_items(data: Mapping[str, str], section: str, verb: str) -> list[Any]:
    """The section's items, after the server's own parser accepted it. Raises EditError."""
    raw = data.get(section, "")
    result = parse_aws_auth({section: raw} if section in data else {})
    failed = result.sections[section].error
    if failed is not None:
        raise EditError(f"aws-auth {section} does not parse ({failed}); fix it before {verb} entries")
    decoded = decode_section(section, raw) if raw.strip() else None
    if decoded is None or decoded.value is None:
        return []
    return list(decoded.value) if isinstance(decoded.value, list) else []


class _AwsAuthDumper(yaml.SafeDumper):
    """Writes a string quoted whenever the server (reading as Go's yaml.v2 does) would take it,
    plain, for something else: PyYAML writes the group ``y`` plain, which yaml.v2 reads as true."""


_STR_TAG = "tag:yaml.org,2002:str"
_READER = AwsAuthLoader("")  # only its resolver is used: how a plain scalar is read


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if _READER.resolve(yaml.ScalarNode, value, (True, False)) != _STR_TAG:
        return dumper.represent_scalar(_STR_TAG, value, style="'")
    return dumper.represent_str(value)


_AwsAuthDumper.add_representer(str, _represent_str)


def _dump(items: list[Any]) -> str:
    return yaml.dump(items, Dumper=_AwsAuthDumper, default_flow_style=False, sort_keys=False, allow_unicode=True)


def append_entry(data: dict[str, str], entry: Entry) -> dict[str, str]:
    """The ConfigMap ``data`` with ``entry`` appended to its section, keeping the section's text.
    Raises EditError on a duplicate or a section that does not parse."""
    entry.validate()
    section = entry.section
    items = _section_items(data, section, "adding")
    if any(_item_identity(entry.kind, item) == entry.identity() for item in items):
        raise EditError(
            f"{entry.name} is already in aws-auth {section}; not adding a duplicate (--append merges groups into it)"
        )
    raw = data.get(section, "")
    item_text = _dump([entry.as_yaml_item()])
    new_text = item_text
    if raw.strip() and items:
        # Append to the text itself (keeps comments), if that really yields the old list plus ours.
        candidate = raw.rstrip("\n") + "\n" + item_text
        check = decode_section(section, candidate)
        if check.error is None and check.value == [*items, entry.as_yaml_item()]:
            new_text = candidate
        else:
            new_text = _dump([*items, entry.as_yaml_item()])
    return {**data, section: new_text}


def merge_entry(data: dict[str, str], entry: Entry) -> tuple[dict[str, str], str]:
    """``--append``: merge ``entry``'s groups into the last entry with its identity (the one that
    wins at lookup), setting its username; append ``entry`` when there is none. Returns the new
    data and what was done; unchanged data when the entry already says all of that."""
    entry.validate()
    section = entry.section
    items = _section_items(data, section, "merging")
    matches = [i for i, item in enumerate(items) if _item_identity(entry.kind, item) == entry.identity()]
    if not matches:
        return append_entry(data, entry), f"added {entry.name} as {entry.username}"
    item = dict(items[matches[-1]])
    keys = {str(k).lower(): k for k in item}
    groups_key, username_key = keys.get("groups", "groups"), keys.get("username", "username")
    existing = item.get(groups_key) or []
    if not isinstance(existing, list):
        raise EditError(f"the groups of {entry.name} in aws-auth {section} are not a list; fix them first")
    added = [g for g in entry.groups if g not in existing]
    item[groups_key] = [*existing, *added]
    item[username_key] = entry.username
    if item == items[matches[-1]]:
        return data, f"{entry.name} already has username {entry.username} and those groups; nothing to change"
    items[matches[-1]] = item
    what = f"groups +{','.join(added)}" if added else "no new groups"
    return {**data, section: _dump(items)}, f"updated {entry.name}: username {entry.username}, {what}"


def remove_entries(data: dict[str, str], entry: Entry) -> tuple[dict[str, str], int]:
    """The ConfigMap ``data`` without any entry of ``entry``'s identity, and how many went.
    Raises EditError when there is none, or the section does not parse."""
    entry.validate(needs_username=False)
    section = entry.section
    items = _section_items(data, section, "removing")
    kept = [item for item in items if _item_identity(entry.kind, item) != entry.identity()]
    removed = len(items) - len(kept)
    if removed == 0:
        raise EditError(f"{entry.name} is not in aws-auth {section}; nothing removed")
    return {**data, section: _dump(kept) if kept else ""}, removed


# -- the API server ------------------------------------------------------------------------


def add_entry(
    api_client: k8s_client.ApiClient,
    entry: Entry,
    *,
    namespace: str = AWS_AUTH_NAMESPACE,
    name: str = AWS_AUTH_NAME,
    attempts: int = 5,
    append: bool = False,
) -> int:
    """Add ``entry`` to the ConfigMap (``append``: merge into an existing one); returns how many
    attempts it took. Raises EditError."""
    entry.validate()
    change = adding(entry, append=append)
    return edit_configmap(api_client, change, namespace=namespace, name=name, attempts=attempts, create=True)[0]


def adding(entry: Entry, *, append: bool) -> Change:
    """The data edit of ``add``: append ``entry``, or with ``append`` merge it into its namesake."""

    def change(data: dict[str, str]) -> tuple[dict[str, str], str]:
        if append:
            return merge_entry(data, entry)
        return append_entry(data, entry), f"added {entry.name} as {entry.username}"

    return change


def removing(entry: Entry) -> Change:
    """The data edit of ``remove``: drop every entry of ``entry``'s identity."""
    entry.validate(needs_username=False)

    def change(data: dict[str, str]) -> tuple[dict[str, str], str]:
        new, count = remove_entries(data, entry)
        return new, f"removed {entry.name} ({counted(count, 'entry', 'entries')})"

    return change


def edit_configmap(
    api_client: k8s_client.ApiClient,
    change: Change,
    *,
    namespace: str = AWS_AUTH_NAMESPACE,
    name: str = AWS_AUTH_NAME,
    attempts: int = 5,
    create: bool = False,
) -> tuple[int, str]:
    """Read, ``change`` and write the ConfigMap, retrying the whole on 409 Conflict; returns the
    attempts it took and what ``change`` said. ``create``: a missing ConfigMap starts empty."""
    try:
        return _edit(k8s_client.CoreV1Api(api_client), change, namespace, name, attempts, create)
    except urllib3.exceptions.HTTPError as err:  # no answer: unreachable, TLS refused, timed out
        raise EditError(
            f"cannot reach the API server: {type(err).__name__}: {str(err).splitlines()[0][:200]}"
        ) from None


def _edit(
    core: k8s_client.CoreV1Api, change: Change, namespace: str, name: str, attempts: int, create: bool
) -> tuple[int, str]:
    for attempt in range(1, attempts + 1):
        try:
            configmap = core.read_namespaced_config_map(name, namespace)
        except ApiException as err:
            if err.status != 404:
                raise EditError(f"cannot read ConfigMap {namespace}/{name}: HTTP {err.status} {err.reason}") from None
            if not create:
                raise EditError(f"ConfigMap {namespace}/{name} does not exist") from None
            data, said = change({})
            body = k8s_client.V1ConfigMap(metadata=k8s_client.V1ObjectMeta(name=name, namespace=namespace), data=data)
            try:
                core.create_namespaced_config_map(namespace, body)
                return attempt, said
            except ApiException as create_err:
                if create_err.status == 409:  # created by someone else meanwhile: edit theirs
                    continue
                raise EditError(f"cannot create ConfigMap {namespace}/{name}: HTTP {create_err.status}") from None
        old = dict(configmap.data or {})
        data, said = change(old)
        if data == old:
            return attempt, said
        configmap.data = data
        try:
            # metadata.resourceVersion is what we read: the API server refuses the write (409) if
            # the ConfigMap changed since, and we start over from a fresh read.
            core.replace_namespaced_config_map(name, namespace, configmap)
            return attempt, said
        except ApiException as err:
            if err.status == 409:
                continue
            raise EditError(f"cannot update ConfigMap {namespace}/{name}: HTTP {err.status} {err.reason}") from None
    raise EditError(f"ConfigMap {namespace}/{name} kept changing; gave up after {attempts} conflicting writes")


# -- command line (the flags are edit_args.py's) ----------------------------------------------


def _groups(values: Sequence[str] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    return tuple(g.strip() for value in values for g in value.split(",") if g.strip())


def _entry(args: argparse.Namespace, kind_attr: str) -> Entry:
    kind: Kind = "role" if getattr(args, kind_attr, None) == "role" else "user"
    return Entry(
        kind,
        getattr(args, f"{kind}arn", None) or "",
        getattr(args, "username", None) or "",
        _groups(getattr(args, "groups", None)),
        parse_sso(getattr(args, "sso", None)) if kind == "role" else None,
    )


def _client(args: argparse.Namespace) -> k8s_client.ApiClient:
    return load_user_api_client(
        kubeconfig=getattr(args, "kubeconfig", None),
        context=getattr(args, "kubeconfig_context", None),
        master=getattr(args, "master", None),
    )


def _run(
    args: argparse.Namespace, command: str, kind_attr: str, edit: Callable[[k8s_client.ApiClient, Entry], str]
) -> int:
    try:
        entry = _entry(args, kind_attr)
        entry.validate(needs_username=command == "add")
        api_client = _client(args)
        try:
            said = edit(api_client, entry)
        finally:
            api_client.close()
    except UserError as err:
        sys.stderr.write(f"eks-iam-authenticator {command}: {err}\n")
        return 1
    sys.stdout.write(f"{said} in {_WHERE}\n")
    return 0


def run_add(args: argparse.Namespace) -> int:
    """Handler of ``eks-iam-authenticator add role|user``. Exit 0 done, 1 with one line on stderr."""
    append = bool(getattr(args, "append", False))

    def edit(api_client: k8s_client.ApiClient, entry: Entry) -> str:
        return edit_configmap(api_client, adding(entry, append=append), create=True)[1]

    return _run(args, "add", "add_kind", edit)


def run_remove(args: argparse.Namespace) -> int:
    """Handler of ``eks-iam-authenticator remove role|user``. Exit 0 removed, 1 with one line on stderr."""

    def edit(api_client: k8s_client.ApiClient, entry: Entry) -> str:
        return edit_configmap(api_client, removing(entry), create=False)[1]

    return _run(args, "remove", "remove_kind", edit)
