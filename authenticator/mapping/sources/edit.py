"""``eks-iam-authenticator add role|user``: add one entry to the ``kube-system/aws-auth`` ConfigMap.

As the reference's ``add`` command: ``--rolearn``/``--userarn``, ``--username``, ``--groups``,
``--kubeconfig``. The existing section is read with the shared aws-auth parser: a duplicate ARN
is refused, and a section that does not parse is refused too (appending to a broken section
would hide the breakage). The new entry is appended to the section's text, so the user's
comments and formatting survive. The write carries the resourceVersion that was read; on a
409 Conflict (someone else wrote in between) the read-modify-write is retried. A missing
ConfigMap is created.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import urllib3
import yaml
from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException

from authenticator.arn import parse_arn
from authenticator.errors import UserError
from authenticator.kube.client import load_api_client
from authenticator.mapping.awsauth import MAP_ROLES, MAP_USERS, decode_section, parse_aws_auth
from authenticator.mapping.model import RoleMapping
from authenticator.mapping.sources.configmap import AWS_AUTH_NAME, AWS_AUTH_NAMESPACE

__all__ = ["AddError", "Entry", "add_entry", "append_entry", "run_add"]

Kind = Literal["role", "user"]


class AddError(UserError):
    """The entry was not added; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class Entry:
    kind: Kind
    arn: str
    username: str
    groups: tuple[str, ...] = ()

    @property
    def section(self) -> str:
        return MAP_ROLES if self.kind == "role" else MAP_USERS

    def as_yaml_item(self) -> dict[str, Any]:
        key = "rolearn" if self.kind == "role" else "userarn"
        item: dict[str, Any] = {key: self.arn, "username": self.username}
        if self.groups:
            item["groups"] = list(self.groups)
        return item

    def validate(self) -> None:
        try:
            arn = parse_arn(self.arn)
        except ValueError as err:
            raise AddError(str(err)) from None
        resource = arn.resource.split("/", 1)[0]
        if arn.service != "iam" or resource != self.kind or "/" not in arn.resource:
            raise AddError(
                f"{self.arn} is not an IAM {self.kind} ARN (arn:<partition>:iam::<account>:{self.kind}/<name>)"
            )
        if not self.username:
            raise AddError("--username is required")


def append_entry(data: dict[str, str], entry: Entry) -> dict[str, str]:
    """The ConfigMap ``data`` with ``entry`` appended to its section. Raises AddError on a
    duplicate ARN or a section that does not parse."""
    entry.validate()
    section = entry.section
    raw = data.get(section, "")
    result = parse_aws_auth({section: raw} if section in data else {})
    failed = result.sections[section].error
    if failed is not None:
        raise AddError(f"aws-auth {section} does not parse ({failed}); fix it before adding entries")
    for existing in result.roles if entry.kind == "role" else result.users:
        arn = existing.rolearn if isinstance(existing, RoleMapping) else existing.userarn
        if arn is not None and arn.lower() == entry.arn.lower():
            raise AddError(f"{entry.kind} {entry.arn} is already in aws-auth {section}; not adding a duplicate")
    item_text = yaml.safe_dump([entry.as_yaml_item()], default_flow_style=False, sort_keys=False)
    decoded = decode_section(section, raw) if raw.strip() else None
    new_text: str | None = None
    if decoded is not None and isinstance(decoded.value, list):
        # Append to the text itself (keeps comments), if that really yields the old list plus ours.
        candidate = raw.rstrip("\n") + "\n" + item_text
        check = decode_section(section, candidate)
        if check.error is None and check.value == [*decoded.value, entry.as_yaml_item()]:
            new_text = candidate
        else:
            new_text = yaml.safe_dump([*decoded.value, entry.as_yaml_item()], default_flow_style=False, sort_keys=False)
    if new_text is None:
        new_text = item_text
    return {**data, section: new_text}


def add_entry(
    api_client: k8s_client.ApiClient,
    entry: Entry,
    *,
    namespace: str = AWS_AUTH_NAMESPACE,
    name: str = AWS_AUTH_NAME,
    attempts: int = 5,
) -> int:
    """Add ``entry`` to the ConfigMap; returns how many attempts it took. Raises AddError."""
    entry.validate()
    try:
        return _add(k8s_client.CoreV1Api(api_client), entry, namespace, name, attempts)
    except urllib3.exceptions.HTTPError as err:  # no answer: unreachable, TLS refused, timed out
        raise AddError(f"cannot reach the API server: {type(err).__name__}: {str(err).splitlines()[0][:200]}") from None


def _add(core: k8s_client.CoreV1Api, entry: Entry, namespace: str, name: str, attempts: int) -> int:
    for attempt in range(1, attempts + 1):
        try:
            configmap = core.read_namespaced_config_map(name, namespace)
        except ApiException as err:
            if err.status != 404:
                raise AddError(f"cannot read ConfigMap {namespace}/{name}: HTTP {err.status} {err.reason}") from None
            body = k8s_client.V1ConfigMap(
                metadata=k8s_client.V1ObjectMeta(name=name, namespace=namespace), data=append_entry({}, entry)
            )
            try:
                core.create_namespaced_config_map(namespace, body)
                return attempt
            except ApiException as create_err:
                if create_err.status == 409:  # created by someone else meanwhile: edit theirs
                    continue
                raise AddError(f"cannot create ConfigMap {namespace}/{name}: HTTP {create_err.status}") from None
        configmap.data = append_entry(dict(configmap.data or {}), entry)
        try:
            # metadata.resourceVersion is what we read: the API server refuses the write (409) if
            # the ConfigMap changed since, and we start over from a fresh read.
            core.replace_namespaced_config_map(name, namespace, configmap)
            return attempt
        except ApiException as err:
            if err.status == 409:
                continue
            raise AddError(f"cannot update ConfigMap {namespace}/{name}: HTTP {err.status} {err.reason}") from None
    raise AddError(f"ConfigMap {namespace}/{name} kept changing; gave up after {attempts} conflicting writes")


# -- command line (the flags are cli.py's) --------------------------------------------------


def _groups(values: Sequence[str] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    return tuple(g.strip() for value in values for g in value.split(",") if g.strip())


def run_add(args: argparse.Namespace) -> int:
    """Handler of ``eks-iam-authenticator add role|user``. Exit 0 added, 1 with one line on stderr."""
    kind: Kind = "role" if getattr(args, "add_kind", None) == "role" else "user"
    arn = getattr(args, f"{kind}arn", None) or ""
    entry = Entry(kind, arn, getattr(args, "username", None) or "", _groups(getattr(args, "groups", None)))
    try:
        entry.validate()
        api_client = load_api_client(kubeconfig=getattr(args, "kubeconfig", None), master=getattr(args, "master", None))
        try:
            add_entry(api_client, entry)
        finally:
            api_client.close()
    except UserError as err:
        sys.stderr.write(f"eks-iam-authenticator add: {err}\n")
        return 1
    sys.stdout.write(f"added {kind} {entry.arn} as {entry.username} to {AWS_AUTH_NAMESPACE}/{AWS_AUTH_NAME}\n")
    return 0
