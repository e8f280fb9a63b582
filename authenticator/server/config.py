"""The server's configuration: the YAML file of docs/cli.md, then flags on top.

Reading is case-insensitive on the keys of the top level and of the ``server:`` section
(``clusterId``, ``clusterID`` and ``clusterid`` are one key). Mapping entries are handed
to the mapping code untouched; their keys are that code's business (docs/mapping.md §1).

Numbers are read as their raw text (``mapAccounts: [012345670123]`` stays the string
``"012345670123"``, not an octal integer); the model converts ``port`` back to an int.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from authenticator import defaults
from authenticator.errors import UserError
from authenticator.mapping.sources.modes import MOUNTED_FILE, normalize_backend_modes
from authenticator.partitions import PARTITIONS

__all__ = [
    "KUBECONFIG_FILENAME",
    "ConfigError",
    "ServerConfig",
    "load_config",
    "load_config_text",
    "load_config_with_warnings",
    "overrides_from_args",
]

KUBECONFIG_FILENAME = "aws-iam-authenticator.kubeconfig"
LOG_LEVELS = ("debug", "info", "warning", "error")

# Canonical YAML spelling of each field (docs/cli.md); the lower-cased form is what we match on.
_TOP_KEYS = {"clusterID": "cluster_id"}
_SERVER_KEYS = {
    "address": "address",
    "port": "port",
    "hostname": "hostname",
    "stateDir": "state_dir",
    "generateKubeconfig": "generate_kubeconfig",
    "kubeconfigPregenerated": "kubeconfig_pregenerated",
    "backendMode": "backend_mode",
    "partition": "partition",
    "mapRoles": "map_roles",
    "mapUsers": "map_users",
    "mapAccounts": "map_accounts",
    "awsAuthFile": "aws_auth_file",
    "dynamicfilepath": "dynamic_file_path",
    "dynamicfileUserIDStrict": "dynamic_file_user_id_strict",
    "reservedPrefixConfig": "reserved_prefix_config",
    "scrubbedAccounts": "scrubbed_accounts",
    "ec2DescribeInstancesRoleARN": "ec2_describe_instances_role_arn",
    "sourceARN": "source_arn",
    "dynamicBackendModePath": "dynamic_backend_mode_path",
    "stsEndpointOverride": "sts_endpoint_override",
    "stsCABundle": "sts_ca_bundle",
    "kubeconfig": "kubeconfig",
    "master": "master",
    # reliability: verification cache and the bound on STS calls
    "verificationCacheTTL": "verification_cache_ttl",
    "verificationCacheSize": "verification_cache_size",
    "stsMaxInFlight": "sts_max_in_flight",
    "stsMaxInFlightWait": "sts_max_in_flight_wait",
    "stsTimeout": "sts_timeout",
}
# The aws-auth guard (docs/admission.md): the keys of the nested ``server.admission`` mapping.
_ADMISSION_KEYS = {"enabled": "admission_enabled", "protectRequester": "admission_protect_requester"}
_FIELD_TO_KEY = (
    {f: "server." + k for k, f in _SERVER_KEYS.items()}
    | {f: k for k, f in _TOP_KEYS.items()}
    | {f: "server.admission." + k for k, f in _ADMISSION_KEYS.items()}
)

# argparse attribute (authenticator/cli.py) -> ServerConfig field; a flag left unset is None.
_FLAGS = {
    "cluster_id": "cluster_id",
    "address": "address",
    "port": "port",
    "hostname": "hostname",
    "state_dir": "state_dir",
    "generate_kubeconfig": "generate_kubeconfig",
    "kubeconfig_pregenerated": "kubeconfig_pregenerated",
    "backend_mode": "backend_mode",
    "partition": "partition",
    "kubeconfig": "kubeconfig",
    "master": "master",
    "log_format": "log_format",
    "log_verbosity": "log_verbosity",
    "admission": "admission_enabled",
}


class ConfigError(UserError, ValueError):
    """A configuration the server cannot start with; ``str()`` is one line for the user."""


class ServerConfig(BaseModel):
    """Everything ``server`` needs, after file and flags were merged. Field names are snake case;
    the file's spellings are in docs/cli.md."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cluster_id: str
    address: str = defaults.ADDRESS
    port: int = Field(default=defaults.PORT, ge=1, le=65535)
    hostname: str = defaults.HOSTNAME
    state_dir: str = defaults.STATE_DIR
    generate_kubeconfig: str | None = None  # default: <state_dir>/aws-iam-authenticator.kubeconfig
    kubeconfig_pregenerated: bool = False
    backend_mode: tuple[str, ...] = (MOUNTED_FILE,)
    partition: str = defaults.PARTITION
    map_roles: list[Any] = Field(default_factory=list)
    map_users: list[Any] = Field(default_factory=list)
    map_accounts: list[str] = Field(default_factory=list)
    aws_auth_file: str | None = None
    dynamic_file_path: str = ""
    dynamic_file_user_id_strict: bool = False
    # backend mode -> username prefixes its mappings may not produce
    reserved_prefix_config: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    scrubbed_accounts: tuple[str, ...] = ()
    ec2_describe_instances_role_arn: str = ""
    source_arn: str = ""  # sent as x-amz-source-arn/-account on the AssumeRole of the role above
    dynamic_backend_mode_path: str = ""  # a JSON file whose backendMode replaces backend_mode while valid
    sts_endpoint_override: str = ""
    sts_ca_bundle: str = ""
    kubeconfig: str | None = None
    master: str | None = None
    log_format: Literal["text", "json"] = defaults.LOG_FORMAT
    log_verbosity: str = defaults.LOG_VERBOSITY
    # reliability: seconds, entries, calls, seconds, seconds; 0 TTL or size disables the cache
    verification_cache_ttl: float = Field(default=defaults.VERIFICATION_CACHE_TTL, ge=0)
    verification_cache_size: int = Field(default=defaults.VERIFICATION_CACHE_SIZE, ge=0)
    sts_max_in_flight: int = Field(default=defaults.STS_MAX_IN_FLIGHT, ge=1)
    sts_max_in_flight_wait: float = Field(default=defaults.STS_MAX_IN_FLIGHT_WAIT, ge=0)
    sts_timeout: float = Field(default=defaults.STS_TIMEOUT, gt=0, le=60)
    # the aws-auth guard (docs/admission.md): off by default
    admission_enabled: bool = False
    admission_protect_requester: bool = True

    @field_validator("cluster_id")
    @classmethod
    def _cluster_id(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        if not all(" " <= c <= "~" for c in value):  # it travels as an HTTP header value
            raise ValueError("must be printable ASCII")
        return value

    @field_validator("backend_mode", mode="before")
    @classmethod
    def _backend_mode(cls, value: Any) -> tuple[str, ...]:
        if value is None:  # not given: the default
            return (MOUNTED_FILE,)
        # Given but empty ("", []): normalize_backend_modes refuses it, as the reference does.
        if not isinstance(value, str | list | tuple) or not all(isinstance(i, str) for i in value):
            raise ValueError("must be a list of backend modes or a comma-separated string")
        # Aliases (with their deprecation warning), unknown and duplicate modes: the one table's rules.
        return tuple(normalize_backend_modes(value))

    @field_validator("source_arn")
    @classmethod
    def _source_arn(cls, value: str) -> str:
        if value:
            from authenticator.arn import parse_arn

            if not parse_arn(value).account:  # ValueError from parse_arn names the ARN
                raise ValueError(f"arn {value!r} has no account id")
        return value

    @field_validator("partition")
    @classmethod
    def _partition(cls, value: str) -> str:
        if value not in PARTITIONS:
            raise ValueError(f"unknown partition {value!r} (known: {', '.join(PARTITIONS)})")
        return value

    @field_validator("map_roles", "map_users", mode="before")
    @classmethod
    def _entries(cls, value: Any) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
            raise ValueError("must be a list of mappings (one per entry)")
        return value

    @field_validator("map_accounts", "scrubbed_accounts", mode="before")
    @classmethod
    def _accounts(cls, value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list | tuple):
            raise ValueError("must be a list of account ids")
        return [str(v) for v in value]

    @field_validator("reserved_prefix_config", mode="before")
    @classmethod
    def _reserved(cls, value: Any) -> dict[str, tuple[str, ...]]:
        # The mapping code owns this format (list form of docs/cli.md and the reference's map form).
        from authenticator.mapping.chain import reserved_prefixes_from_config

        return reserved_prefixes_from_config(value)

    @field_validator("log_verbosity")
    @classmethod
    def _verbosity(cls, value: str) -> str:
        level = value.strip().lower()
        level = {"warn": "warning"}.get(level, level)
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {value!r} (known: {', '.join(LOG_LEVELS)})")
        return level

    @field_validator("sts_endpoint_override")
    @classmethod
    def _override(cls, value: str) -> str:
        if value and not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        return value

    @model_validator(mode="after")
    def _ca_needs_override(self) -> ServerConfig:
        if self.sts_ca_bundle and not self.sts_endpoint_override:
            raise ValueError("server.stsCABundle is only used with server.stsEndpointOverride")
        return self

    @property
    def kubeconfig_path(self) -> Path:
        """Where the webhook kubeconfig is written."""
        if self.generate_kubeconfig:
            return Path(self.generate_kubeconfig)
        return Path(self.state_dir) / KUBECONFIG_FILENAME


class _RawNumberLoader(yaml.SafeLoader):
    """SafeLoader that leaves numbers as the text written (account ids keep leading zeros)."""


_RawNumberLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_file(path: str) -> tuple[dict[str, Any], list[str]]:
    """The file's known keys as field names, and the unknown keys as written."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None
    return _read_text(text, path)


def _read_text(text: str, path: str) -> tuple[dict[str, Any], list[str]]:
    try:
        doc = yaml.load(text, Loader=_RawNumberLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"config file {path} is not valid YAML{where}: {problem}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(f"config file {path} must be a YAML mapping")
    fields: dict[str, Any] = {}
    unknown: list[str] = []
    top = {k.lower(): f for k, f in _TOP_KEYS.items()}
    for key, value in doc.items():
        lowered = str(key).lower()
        if lowered == "server":
            _read_mapping(value, "server", _SERVER_KEYS, path, fields, unknown, nested={"admission": _ADMISSION_KEYS})
        elif lowered in top:
            fields[top[lowered]] = value
        else:
            unknown.append(str(key))
    return fields, unknown


def _read_mapping(
    value: object,
    where: str,
    keys: Mapping[str, str],
    path: str,
    fields: dict[str, Any],
    unknown: list[str],
    *,
    nested: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """``where`` (``server``, ``server.admission``): a mapping of ``keys`` and of ``nested``
    mappings of their own, every key case-insensitive."""
    if value is None:
        return
    if not isinstance(value, dict):
        raise ConfigError(f"config file {path}: {where} must be a mapping")
    known = {k.lower(): f for k, f in keys.items()}
    inner = {k.lower(): (k, sub) for k, sub in (nested or {}).items()}
    for key, item in value.items():
        lowered = str(key).lower()
        if lowered in inner:
            name, sub = inner[lowered]
            _read_mapping(item, f"{where}.{name}", sub, path, fields, unknown)
        elif lowered in known:
            fields[known[lowered]] = item
        else:
            unknown.append(f"{where}.{key}")


def load_config(path: str | None, overrides: Mapping[str, Any] | None = None) -> ServerConfig:
    """Read ``path`` (if any), apply ``overrides`` (field name -> value; ``None`` values are
    ignored), validate. ``ConfigError`` with one line on any problem."""
    config, _ = load_config_with_warnings(path, overrides)
    return config


def load_config_with_warnings(
    path: str | None, overrides: Mapping[str, Any] | None = None
) -> tuple[ServerConfig, list[str]]:
    """As ``load_config``, plus warnings about the file (unknown keys) for the caller to log."""
    fields, unknown = _read_file(path) if path else ({}, [])
    return _validated(fields, unknown, overrides)


def load_config_text(
    text: str, path: str, overrides: Mapping[str, Any] | None = None
) -> tuple[ServerConfig, list[str]]:
    """As ``load_config_with_warnings``, for the text of a config file already read (``path`` names
    it in messages): the one reader of the file for the tools that explain it (``aws-auth resolve``)."""
    fields, unknown = _read_text(text, path)
    return _validated(fields, unknown, overrides)


def _validated(
    fields: dict[str, Any], unknown: list[str], overrides: Mapping[str, Any] | None
) -> tuple[ServerConfig, list[str]]:
    for name, value in (overrides or {}).items():
        if value is not None:
            fields[name] = value
    if fields.get("cluster_id") in (None, ""):
        raise ConfigError("missing clusterID: set clusterID in the config file or pass -i/--cluster-id")
    try:
        config = ServerConfig(**fields)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None
    warnings = [f"unknown config key {k!r} ignored" for k in unknown]
    return config, warnings


def _one_line(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = err.get("loc") or ()
    field = str(loc[0]) if loc else ""
    key = _FIELD_TO_KEY.get(field, field)
    message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    suffix = f" ({len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"invalid configuration: {key}: {message}{suffix}" if key else f"invalid configuration: {message}{suffix}"


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The flags the user gave (not ``None``), as ServerConfig field names."""
    result: dict[str, Any] = {}
    for attr, field in _FLAGS.items():
        value = getattr(args, attr, None)
        if value is not None:
            result[field] = value
    return result
