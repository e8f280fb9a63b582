"""AA005 wrong-object: the object is not the ConfigMap kube-system/aws-auth.

What: the manifest holds aws-auth mappings, but its kind is not ``ConfigMap``, its name is
not ``aws-auth`` or its namespace is not ``kube-system`` (or missing, so ``kubectl apply``
puts it in the current namespace).

Why: the authenticator reads exactly one object, ``kube-system/aws-auth``. Any other object
is ignored, however correct its content.

Fix: set ``kind: ConfigMap``, ``metadata.name: aws-auth`` and ``metadata.namespace: kube-system``.

Failing example::

    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: aws-auth
      namespace: default
    data:
      mapRoles: |
        - rolearn: arn:aws:iam::739275461218:role/eks-admins
          username: admin
          groups:
            - eks-admins

Passing example::

    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: aws-auth
      namespace: kube-system
    data:
      mapRoles: |
        - rolearn: arn:aws:iam::739275461218:role/eks-admins
          username: admin
          groups:
            - eks-admins
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext

ID = "AA005"
SLUG = "wrong-object"
SEVERITY = "error"
SUMMARY = "kind/name/namespace is not ConfigMap kube-system/aws-auth: the authenticator never reads it"


def _value(node: yaml.Node | None, key: str) -> tuple[yaml.Node | None, yaml.Node | None]:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k, v
    return None, None


def check(ctx: RuleContext) -> Iterator[Finding]:
    target = ctx.target
    if target.kind != "configmap" or target.object_node is None:
        return
    obj = target.object_node
    problems: list[tuple[str, yaml.Node]] = []
    _, kind_node = _value(obj, "kind")
    if target.api_kind != "ConfigMap":
        problems.append((f"kind is {target.api_kind!r}, not ConfigMap", kind_node or obj))
    metadata_key, metadata = _value(obj, "metadata")
    _, name_node = _value(metadata, "name")
    if target.name != "aws-auth":
        problems.append((f"metadata.name is {target.name!r}, not aws-auth", name_node or metadata or obj))
    _, namespace_node = _value(metadata, "namespace")
    if target.namespace is None:
        problems.append(
            ("metadata.namespace is missing: kubectl apply puts it in the current namespace", metadata_key or obj)
        )
    elif target.namespace != "kube-system":
        problems.append((f"metadata.namespace is {target.namespace!r}, not kube-system", namespace_node or obj))
    for message, node in problems:
        yield ctx.finding(
            f"{message}: the authenticator only reads ConfigMap kube-system/aws-auth",
            line=node.start_mark.line + 1,
            column=node.start_mark.column + 1,
            fix_hint="use kind: ConfigMap, metadata.name: aws-auth, metadata.namespace: kube-system",
            subject=message,
        )
