"""Linter configuration: ``[tool.aws-auth-lint]`` in pyproject.toml or ``.aws-auth-lint.yaml``.

```toml
[tool.aws-auth-lint]
select = ["AA"]              # ids or prefixes
ignore = ["AA705"]
fail-on = "warning"          # error (default) | warning | info | never
[tool.aws-auth-lint.severity]
AA701 = "error"
[tool.aws-auth-lint.allow]
system-masters = ["arn:aws:iam::739275461218:role/break-glass"]   # AA701
map-accounts = ["739275461218"]                                    # AA702
iam-users = ["arn:aws:iam::739275461218:user/ci"]                  # AA705
```

The YAML file has the same keys at its top level. The nearest file upwards from the current
directory wins (``.aws-auth-lint.yaml`` before ``pyproject.toml`` in the same directory).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from authenticator.errors import UserError
from authenticator.lint.findings import Severity

__all__ = ["ConfigError", "LintConfig", "discover_config", "load_config"]

FAIL_ON = ("error", "warning", "info", "never")


class ConfigError(UserError, ValueError):
    """The configuration is unreadable or invalid (exit 2)."""


@dataclass
class LintConfig:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: dict[str, Severity] = field(default_factory=dict)
    fail_on: str = "error"
    allow_system_masters: frozenset[str] = frozenset()  # lower-cased ARNs
    allow_map_accounts: frozenset[str] = frozenset()
    allow_iam_users: frozenset[str] = frozenset()
    source: str | None = None  # where it came from

    def enabled(self, rule_id: str) -> bool:
        if self.select and not any(rule_id.startswith(p) for p in self.select):
            return False
        return not any(rule_id.startswith(p) for p in self.ignore)


def _ids(value: object, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} must be a list of rule ids or prefixes")
    return tuple(v.strip().upper() for v in value)


def _strings(value: object, key: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise ConfigError(f"allow.{key} must be a list of strings")
    return frozenset(str(v).lower() for v in value)


def from_mapping(table: Mapping[object, object], source: str) -> LintConfig:
    known = {"select", "ignore", "severity", "fail-on", "fail_on", "allow"}
    unknown = {str(key) for key in table} - known
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}")
    levels = table.get("severity") or {}
    if not isinstance(levels, Mapping):
        raise ConfigError(f"{source}: severity must be a table")
    severity: dict[str, Severity] = {}
    for rule_id, level in levels.items():
        try:
            severity[str(rule_id).upper()] = Severity.parse(str(level))
        except ValueError as err:
            raise ConfigError(f"{source}: severity.{rule_id}: {err}") from None
    fail_on = str(table.get("fail-on", table.get("fail_on", "error"))).lower()
    if fail_on not in FAIL_ON:
        raise ConfigError(f"{source}: fail-on must be one of {', '.join(FAIL_ON)}")
    allow = table.get("allow") or {}
    if not isinstance(allow, dict):
        raise ConfigError(f"{source}: allow must be a table")
    unknown_allow = {str(key) for key in allow} - {"system-masters", "map-accounts", "iam-users"}
    if unknown_allow:
        raise ConfigError(f"{source}: unknown allow-list(s) {', '.join(sorted(unknown_allow))}")
    return LintConfig(
        select=_ids(table.get("select"), "select"),
        ignore=_ids(table.get("ignore"), "ignore"),
        severity=severity,
        fail_on=fail_on,
        allow_system_masters=_strings(allow.get("system-masters"), "system-masters"),
        allow_map_accounts=_strings(allow.get("map-accounts"), "map-accounts"),
        allow_iam_users=_strings(allow.get("iam-users"), "iam-users"),
        source=source,
    )


def load_config(path: str | os.PathLike[str]) -> LintConfig:
    """Read one config file (pyproject.toml or YAML). Raises ConfigError."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read {p}: {err.strerror}") from None
    if p.suffix == ".toml":
        import tomllib  # here: a run with a YAML config or none at all does not pay for it

        try:
            doc = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ConfigError(f"{p}: {err}") from None
        table = doc.get("tool", {}).get("aws-auth-lint", {})
    else:
        try:
            table = yaml.safe_load(raw) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{p}: not valid YAML: {err}") from None
    if not isinstance(table, dict):
        raise ConfigError(f"{p}: the configuration must be a mapping")
    return from_mapping(table, str(p))


def discover_config(start: str | os.PathLike[str] | None = None) -> LintConfig:
    """The nearest .aws-auth-lint.yaml, or pyproject.toml with a [tool.aws-auth-lint] table."""
    here = Path(start or os.getcwd()).resolve()
    for directory in (here, *here.parents):
        for name in (".aws-auth-lint.yaml", ".aws-auth-lint.yml"):
            candidate = directory / name
            if candidate.is_file():
                return load_config(candidate)
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            import tomllib

            try:
                doc = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
                continue
            if "aws-auth-lint" in doc.get("tool", {}):
                return load_config(pyproject)
    return LintConfig()
