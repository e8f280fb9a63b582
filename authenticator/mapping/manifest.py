"""The aws-auth ConfigMap in a manifest file (``server.awsAuthFile``, ``aws-auth lint -f``).

A manifest holds one or more YAML documents, or a ``kind: List``; the ConfigMap's ``data`` is
what :func:`authenticator.mapping.awsauth.parse_aws_auth` reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from authenticator.errors import UserError
from authenticator.mapping.yamlv2 import AwsAuthLoader, yaml_error_text

__all__ = ["ManifestError", "load_configmap_manifest"]


class ManifestError(UserError, ValueError):
    """The aws-auth manifest file is not YAML or holds no usable ConfigMap."""


def _documents(text: str) -> list[object]:
    try:
        return [doc for doc in yaml.load_all(text, Loader=AwsAuthLoader) if doc is not None]
    except yaml.YAMLError as err:
        raise ManifestError(f"not valid YAML: {yaml_error_text(err)[0]}") from None


def _config_maps(docs: Iterable[object]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
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
