"""``aws-auth lint --live``: the cluster's kube-system/aws-auth, as a manifest to lint.

Read through the official kubernetes client and the current kubeconfig (or ``--kubeconfig``
/ ``--context``). The ConfigMap is written back as YAML with ``|`` blocks so that positions
in findings point at a readable document.
"""

from __future__ import annotations

from collections.abc import Mapping

import yaml

__all__ = ["fetch_live_manifest", "manifest_text"]

_NAME, _NAMESPACE = "aws-auth", "kube-system"


class _LiteralDumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _str)


def manifest_text(name: str, namespace: str, data: Mapping[str, str] | None) -> str:
    """A ConfigMap manifest for ``data`` with multi-line values as literal blocks."""
    doc = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": dict(data or {}),
    }
    return yaml.dump(doc, Dumper=_LiteralDumper, sort_keys=False, allow_unicode=True, width=10_000)


def fetch_live_manifest(*, kubeconfig: str | None = None, context: str | None = None) -> str:
    from kubernetes import client, config

    config.load_kube_config(config_file=kubeconfig, context=context)
    api = client.CoreV1Api()
    cm = api.read_namespaced_config_map(_NAME, _NAMESPACE)
    return manifest_text(_NAME, _NAMESPACE, cm.data)
