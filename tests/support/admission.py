"""AdmissionReview requests as kube-apiserver sends them (admission.k8s.io/v1): for the guard's
tests and benchmark, and for the API-server stand-in that calls a registered webhook."""

from __future__ import annotations

import copy
import uuid
from typing import Any

__all__ = ["review"]


def review(
    operation: str,
    new: dict[str, Any] | None,
    old: dict[str, Any] | None = None,
    *,
    user: dict[str, Any] | None = None,
    dry_run: bool = False,
    kind: str = "ConfigMap",
    group: str = "",
    name: str | None = None,
    namespace: str | None = None,
) -> dict[str, Any]:
    """An AdmissionReview as kube-apiserver sends it for ``operation`` on ``new`` / ``old``; the
    object's name and namespace come from its metadata unless given (a route names them)."""
    meta = (new or old or {}).get("metadata", {})
    plural = {"ConfigMap": "configmaps", "Secret": "secrets"}.get(kind, kind.lower() + "s")
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": {"group": group, "version": "v1", "kind": kind},
            "resource": {"group": group, "version": "v1", "resource": plural},
            "requestKind": {"group": group, "version": "v1", "kind": kind},
            "requestResource": {"group": group, "version": "v1", "resource": plural},
            "name": meta.get("name", "") if name is None else name,
            "namespace": meta.get("namespace", "") if namespace is None else namespace,
            "operation": operation,
            "userInfo": user or {"username": "kubernetes-admin", "groups": ["system:masters"]},
            "object": copy.deepcopy(new),
            "oldObject": copy.deepcopy(old),
            "dryRun": dry_run,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": f"{operation.title()}Options"},
        },
    }
