"""Shared helpers for the linter tests."""

from __future__ import annotations

import asyncio
import textwrap

from authenticator.lint.resolve import identity_for
from authenticator.mapping.chain import MappingChain, MappingDenied

HEADER = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n"


def configmap(data: str) -> str:
    """A ConfigMap manifest around a data snippet (a complete manifest is returned unchanged)."""
    data = textwrap.dedent(data)
    if data.lstrip().startswith("apiVersion:"):
        return data
    return HEADER + textwrap.indent(data, "  ")


def server_answer(chain: MappingChain, arn: str) -> tuple[bool, str | None, tuple[str, ...]]:
    """(mapped, username, groups) as the server's mapping chain answers for ``arn``."""
    identity, _ = identity_for(arn)
    try:
        mapped = asyncio.run(chain.map(identity))
    except MappingDenied:
        return (False, None, ())
    return (True, mapped.username, mapped.groups)
