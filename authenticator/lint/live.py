"""``aws-auth lint --live``: the cluster's kube-system/aws-auth, as a manifest to lint.

Read through the official kubernetes client and the current kubeconfig (or ``--kubeconfig``
/ ``--context``). The ConfigMap is written back as YAML with ``|`` blocks so that positions
in findings point at a readable document.
"""

from __future__ import annotations

from collections.abc import Mapping

import yaml

from authenticator.errors import UserError

__all__ = ["LiveError", "fetch_live_manifest", "manifest_text"]

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


class LiveError(UserError):
    """The kubeconfig cannot be used or the cluster cannot be read; the message is one line."""


def fetch_live_manifest(*, kubeconfig: str | None = None, context: str | None = None) -> str:
    """The cluster's aws-auth as a manifest; ``LiveError`` when the kubeconfig is unusable, the API
    server is unreachable or it refuses the read."""
    import urllib3.exceptions
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException, OpenApiException

    from authenticator.kube.client import KubeConfigError, load_user_api_client

    try:  # the same kubeconfig lookup as `eks-iam-authenticator add` (kubectl's)
        api = client.CoreV1Api(load_user_api_client(kubeconfig=kubeconfig, context=context))
    except KubeConfigError as err:
        raise LiveError(str(err)) from None
    try:
        cm = api.read_namespaced_config_map(_NAME, _NAMESPACE)
    except ApiException as err:
        raise LiveError(f"the API server answered {err.status} {err.reason} for {_NAMESPACE}/{_NAME}") from None
    except (OpenApiException, urllib3.exceptions.HTTPError, OSError) as err:
        raise LiveError(f"cannot read {_NAMESPACE}/{_NAME}: {_first_line(err)}") from None
    return manifest_text(_NAME, _NAMESPACE, cm.data)


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__
