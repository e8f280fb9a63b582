"""The backend modes: the names of the mapping sources, in the one table the program reads.

``--backend-mode`` (``server.backendMode``) orders the sources by these names, each source carries
its mode as its name, and ``reservedPrefixConfig`` names sources by them. The reference's
deprecated aliases are accepted, matched case-insensitively as the canonical names are.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

__all__ = [
    "BACKEND_MODES",
    "CRD",
    "DYNAMIC_FILE",
    "EKS_CONFIGMAP",
    "MOUNTED_FILE",
    "canonical_mode",
    "normalize_backend_modes",
]

MOUNTED_FILE = "MountedFile"
EKS_CONFIGMAP = "EKSConfigMap"
CRD = "CRD"
DYNAMIC_FILE = "DynamicFile"
BACKEND_MODES = (MOUNTED_FILE, EKS_CONFIGMAP, CRD, DYNAMIC_FILE)
_DEPRECATED_ALIASES = {"File": MOUNTED_FILE, "ConfigMap": EKS_CONFIGMAP}

_log = logging.getLogger("authenticator.mapping")
_CANONICAL = {m.lower(): m for m in BACKEND_MODES}
_ALIASES = {a.lower(): (a, m) for a, m in _DEPRECATED_ALIASES.items()}


def canonical_mode(text: str) -> str | None:
    """The canonical name of a mode or a deprecated alias, in any case; ``None`` if unknown."""
    key = text.lower()
    mode = _CANONICAL.get(key)
    if mode is None and key in _ALIASES:
        mode = _ALIASES[key][1]
    return mode


def normalize_backend_modes(value: str | Sequence[str]) -> list[str]:
    """``"File, CRD"`` or ``["EKSConfigMap", "DynamicFile"]`` -> canonical names, in order.

    A deprecated alias is logged as such; an unknown or repeated mode, or none at all, is a
    ValueError with one line (the server does not start)."""
    items = value.split(",") if isinstance(value, str) else [p for v in value for p in str(v).split(",")]
    modes: list[str] = []
    for item in items:
        text = item.strip()
        if not text:
            continue
        mode = canonical_mode(text)
        if mode is None:
            raise ValueError(f"unknown backend mode {text!r} (known: {', '.join(BACKEND_MODES)})")
        if text.lower() in _ALIASES:
            _log.warning("backend mode %s is deprecated; use %s", _ALIASES[text.lower()][0], mode)
        if mode in modes:
            raise ValueError(f"backend mode {mode} is listed twice in {_show(value)}")
        modes.append(mode)
    if not modes:
        raise ValueError("no backend mode given (known: " + ", ".join(BACKEND_MODES) + ")")
    return modes


def _show(value: str | Sequence[str]) -> str:
    return value if isinstance(value, str) else ",".join(str(v) for v in value)
