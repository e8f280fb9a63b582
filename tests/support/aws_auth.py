"""Shared helpers for the linter tests."""

from __future__ import annotations

import textwrap

HEADER = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n"


def configmap(data: str) -> str:
    """A ConfigMap manifest around a data snippet (a complete manifest is returned unchanged)."""
    data = textwrap.dedent(data)
    if data.lstrip().startswith("apiVersion:"):
        return data
    return HEADER + textwrap.indent(data, "  ")
