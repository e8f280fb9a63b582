"""Signing credentials from botocore's credential chain (the slow path).

Imported only on a cache miss: it pulls in botocore. Only ``botocore.session``
is needed to resolve env keys, profiles, SSO, web identity, processes, container
and instance credentials; an STS *client* (which parses botocore's 1.3 MB endpoints
file) is created only for ``--role`` and ``--forward-session-name``, never to sign
the token itself (client_plugin.presign does that, at the partition table's host).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import botocore
import botocore.exceptions
import botocore.session

from authenticator.partitions import GLOBAL_STS_HOST, sts_host
from client_plugin.errors import PluginError
from client_plugin.request import DEFAULT_REGION, TokenRequest

if TYPE_CHECKING:  # type-checking only: botocore builds its client classes at run time
    from mypy_boto3_sts import STSClient

__all__ = ["Resolved", "SigningCredentials", "resolve"]

try:  # the regions for which SDKs sign at the global host under sts_regional_endpoints=legacy
    from botocore.args import LEGACY_GLOBAL_STS_REGIONS as _LEGACY_GLOBAL_REGIONS
except ImportError:  # pragma: no cover - older or newer botocore without the constant
    _LEGACY_GLOBAL_REGIONS = [
        "ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "aws-global", "ca-central-1",
        "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1",
        "us-east-2", "us-west-1", "us-west-2",
    ]  # fmt: skip

# The providers that can keep what they fetched in a dict-like cache.
_CACHEABLE_PROVIDERS = ("assume-role", "assume-role-with-web-identity", "sso")


@dataclass(frozen=True, slots=True)
class SigningCredentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(repr=False)
    expires_at: datetime | None = None  # None: long-term keys


@dataclass(frozen=True, slots=True)
class Resolved:
    credentials: SigningCredentials
    region: str
    host: str  # always from the partition table
    signing_region: str
    cacheable: bool  # temporary credentials that did not come from the environment
    warnings: tuple[str, ...] = ()  # one line each, for stderr


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _where_to_sign(session: botocore.session.Session, request: TokenRequest) -> tuple[str, str, str]:
    region = request.region or session.get_config_variable("region") or DEFAULT_REGION
    try:
        host = sts_host(
            region,
            fips=_truthy(session.get_config_variable("use_fips_endpoint")),
            dualstack=_truthy(session.get_config_variable("use_dualstack_endpoint")),
            # "legacy" means the global host only for the regions that had no regional one then.
            use_global=str(session.get_config_variable("sts_regional_endpoints")).lower() == "legacy"
            and region in _LEGACY_GLOBAL_REGIONS,
        )
    except ValueError as exc:
        raise PluginError(str(exc)) from None
    # The global host signs for us-east-1, as every SDK does.
    return region, host, "us-east-1" if host == GLOBAL_STS_HOST else region


def _unknown_region_warning(session: botocore.session.Session, region: str) -> str | None:
    """A warning when no partition botocore knows lists ``region``; None when one does.

    The region is used all the same (its partition follows from its name, docs/token.md §2):
    a region newer than the installed botocore must work. A typo is what the warning is for.
    botocore's partitions.json (~7 KB) is read, not its 1.3 MB endpoints file.
    """
    try:
        data = session.get_component("data_loader").load_data("partitions")
    except botocore.exceptions.DataNotFoundError:  # a botocore without partitions.json: cannot tell
        return None
    partitions = data.get("partitions", []) if isinstance(data, dict) else []
    if any(region in (p.get("regions") or {}) for p in partitions if isinstance(p, dict)):
        return None
    return (
        f"region {region!r} is not a region of any AWS partition known to botocore {botocore.__version__}; "
        "using it anyway (a new region, or a typo?)"
    )


def _stderr_prompter(interactive: bool) -> Callable[[str], str]:
    def prompt(text: str) -> str:
        if not interactive:
            raise PluginError(
                "an MFA code is needed but kubectl runs the plugin non-interactively "
                "(set interactiveMode: IfAvailable in the kubeconfig, or use --cache after one interactive run)"
            )
        sys.stderr.write(text)
        sys.stderr.flush()
        line = sys.stdin.readline()
        if not line:
            raise PluginError("no MFA code was entered")
        return line.strip()

    return prompt


def _base_session(request: TokenRequest, cache: Any | None, interactive: bool) -> botocore.session.Session:
    session = botocore.session.Session(profile=request.profile)
    resolver = session.get_component("credential_provider")
    for name in _CACHEABLE_PROVIDERS:
        try:
            provider = resolver.get_provider(name)
        except botocore.exceptions.UnknownCredentialError:
            continue
        if cache is not None:
            provider.cache = cache
        if name == "assume-role" and hasattr(provider, "_prompter"):
            # MFA prompts go to stderr; stdout belongs to kubectl.
            provider._prompter = _stderr_prompter(interactive)
    return session


def _frozen(credentials: Any) -> SigningCredentials:
    frozen = credentials.get_frozen_credentials()
    expiry = getattr(credentials, "_expiry_time", None)
    if not frozen.access_key or not frozen.secret_key:
        raise PluginError("incomplete AWS credentials: an access key id or secret access key is empty")
    return SigningCredentials(
        frozen.access_key, frozen.secret_key, frozen.token or None, _aware(expiry) if expiry else None
    )


def _assume_role(session: botocore.session.Session, request: TokenRequest, region: str, now: datetime) -> Any:
    assert request.role_arn is not None
    # This client talks to the configured STS endpoint (AWS_ENDPOINT_URL_STS, a
    # profile's endpoint_url) — unlike the token, which always names the real host.
    client = cast("STSClient", session.create_client("sts", region_name=region))
    session_name = request.session_name
    if request.forward_session_name:
        user_id = client.get_caller_identity()["UserId"]
        parts = user_id.split(":")
        if len(parts) == 2 and parts[1]:
            session_name = parts[1]
    if not session_name:
        session_name = f"eks-iam-authenticator-{int(now.timestamp())}"
    params: dict[str, Any] = {"RoleArn": request.role_arn, "RoleSessionName": session_name}
    if request.external_id:
        params["ExternalId"] = request.external_id
    try:
        return client.assume_role(**params)["Credentials"]
    except botocore.exceptions.ClientError as exc:
        raise PluginError(_describe(exc, role_arn=request.role_arn)) from None
    except botocore.exceptions.BotoCoreError as exc:  # never reached STS: still this role's AssumeRole
        raise PluginError(f"AssumeRole of {request.role_arn} failed: {_describe(exc)}") from None


# The STS operations that assume a role: their failure names the role.
_ASSUMING = ("AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML")


def _configured_role(session: botocore.session.Session, request: TokenRequest) -> str | None:
    """The role botocore's own providers assume: the profile's ``role_arn`` (with the roles of
    its ``source_profile`` chain, any of which may be the one refused), else ``AWS_ROLE_ARN``."""
    try:
        profiles = session.full_config.get("profiles", {})
        name = session.get_config_variable("profile") or "default"
    except botocore.exceptions.BotoCoreError:
        profiles, name = {}, "default"
    chain: list[str] = []
    seen: set[str] = set()
    while name not in seen and isinstance(profiles.get(name), dict) and profiles[name].get("role_arn"):
        seen.add(name)
        chain.append(str(profiles[name]["role_arn"]))
        name = profiles[name].get("source_profile") or ""
    if not chain:
        return request.env.get("AWS_ROLE_ARN") or None
    return chain[0] if len(chain) == 1 else f"{chain[0]} (or a role it is chained from: {', '.join(chain[1:])})"


def _describe(exc: Exception, *, role_arn: str | None = None) -> str:
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        operation = getattr(exc, "operation_name", None) or "the STS call"
        what = f"{operation} of {role_arn}" if role_arn and operation in _ASSUMING else operation
        return f"{what} failed: {error.get('Code', 'Unknown')}: {error.get('Message', '')}".rstrip(": ")
    return str(exc) or type(exc).__name__


def resolve(request: TokenRequest, *, now: datetime, cache: Any | None = None, interactive: bool = True) -> Resolved:
    """Credentials to sign with, and where: raises PluginError on any expected failure."""
    session: botocore.session.Session | None = None
    try:
        session = _base_session(request, cache, interactive)
        region, host, signing_region = _where_to_sign(session, request)
        unknown = _unknown_region_warning(session, region)
        # botocore's own STS clients (a profile's role_arn, web identity) then use the
        # region resolved in our order (AWS_REGION included) instead of none at all.
        session.set_config_variable("region", region)
        base = session.get_credentials()
        if base is None:
            raise PluginError(
                "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                "or run `aws configure` / `aws sso login`"
            )
        if request.role_arn:
            assumed = _assume_role(session, request, region, now)
            credentials = SigningCredentials(
                assumed["AccessKeyId"],
                assumed["SecretAccessKey"],
                assumed.get("SessionToken"),
                _aware(assumed["Expiration"]),
            )
            cacheable = True
        else:
            credentials = _frozen(base)
            cacheable = credentials.expires_at is not None and getattr(base, "method", "") not in ("env", "explicit")
    except PluginError:
        raise
    except botocore.exceptions.ClientError as exc:  # from botocore's own providers: a profile's role
        role = _configured_role(session, request) if session is not None else None
        raise PluginError(_describe(exc, role_arn=role)) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise PluginError(_describe(exc)) from None
    return Resolved(credentials, region, host, signing_region, cacheable, (unknown,) if unknown else ())
