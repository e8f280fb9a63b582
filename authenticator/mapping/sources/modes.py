"""The backend modes: the names of the mapping sources, in the one table the program reads.

``--backend-mode`` (``server.backendMode``) orders the sources by these names, each source carries
its mode as its name, and ``reservedPrefixConfig`` names sources by them. The reference's
deprecated aliases are accepted, matched case-insensitively as the canonical names are.

``server.dynamicBackendModePath`` names a JSON file that replaces the configured order while it is
valid, as the reference reads it (pkg/server/types.go BackendModeConfig)::

    {"backendMode": "MountedFile EKSConfigMap", "LastUpdatedDateTime": "1700000000", "Version": "3"}

``backendMode`` is space-separated; keys match case-insensitively, the last one seen winning, as Go's
encoding/json reads them. :func:`parse_backend_mode_file` reads it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BACKEND_MODES",
    "CRD",
    "DYNAMIC_FILE",
    "EKS_CONFIGMAP",
    "MOUNTED_FILE",
    "BackendModeFile",
    "canonical_mode",
    "normalize_backend_modes",
    "parse_backend_mode_file",
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


@dataclass(frozen=True, slots=True)
class BackendModeFile:
    """What a valid dynamic backend mode file says."""

    modes: tuple[str, ...]  # canonical, in order
    last_updated: str  # LastUpdatedDateTime as written (Unix seconds), "" when absent
    version: str


def parse_backend_mode_file(text: str) -> BackendModeFile:
    """The dynamic backend mode file -> its modes; ``ValueError`` with one line for anything the
    reference would not switch to (not JSON, a field that is not a string, no mode, an unknown or
    repeated mode)."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise ValueError(f"not valid JSON: {str(err).splitlines()[0]}") from None
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    fields: dict[str, object] = {}
    for key, value in doc.items():  # Go's encoding/json: case-insensitive, the last one wins
        lowered = key.lower()
        if lowered in _MODE_FILE_KEYS:
            fields[_MODE_FILE_KEYS[lowered]] = value
    for name, value in fields.items():
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name} must be a string")
    modes = str(fields.get("backendMode") or "")
    # The reference splits on single spaces; runs of blanks are read as one separator here.
    return BackendModeFile(
        modes=tuple(normalize_backend_modes(modes.split())),
        last_updated=str(fields.get("LastUpdatedDateTime") or ""),
        version=str(fields.get("Version") or ""),
    )


_MODE_FILE_KEYS = {k.lower(): k for k in ("backendMode", "LastUpdatedDateTime", "Version")}
