"""``eks-iam-authenticator token``: print an ExecCredential (or the bare token) for kubectl.

The module imports only the stdlib and the plugin's stdlib modules: a ``--cache``
hit answers from a file without ever importing botocore (docs/exec-plugin.md). botocore
is imported (in client_plugin.credentials) only when a token has to be signed and
no cached temporary credentials can sign it. The clock gives epoch seconds, so that
a hit does not import ``datetime`` either; the signing path converts.
"""

from __future__ import annotations

import os
import sys
import time

from client_plugin.cache import CachedCredentials, CachedToken, FileCache, default_cache_dir
from client_plugin.errors import PluginError
from client_plugin.exec_credential import ExecInfo, format_exec_credential, parse_exec_info
from client_plugin.expiry import token_expiry
from client_plugin.request import TokenRequest, explicit_region

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Mapping
    from datetime import datetime
    from types import SimpleNamespace
    from typing import TextIO

    from client_plugin.presign import Signature

    # argparse's namespace, or the same attributes from client_plugin.flags.parse_token_argv
    Args = argparse.Namespace | SimpleNamespace

__all__ = ["execute", "run"]

_PROG = "eks-iam-authenticator"


def run(args: Args) -> int:
    """The ``token`` handler: authenticator.cli runs it with the flags of client_plugin.flags."""
    return execute(args, env=os.environ, stdout=sys.stdout, stderr=sys.stderr, clock=time.time)


def execute(
    args: Args,
    *,
    env: Mapping[str, str],
    stdout: TextIO,
    stderr: TextIO,
    clock: Callable[[], float],
) -> int:
    """Run ``token``; every expected failure is one line on stderr and exit 1.

    Expected are the user's errors (``PluginError``: flags, credentials, STS's refusal)
    and a file or terminal that cannot be used (``OSError``); anything else is a bug and keeps
    its traceback. ``clock`` returns the time in epoch seconds (``time.time``).
    """
    try:
        output = _token_output(args, env=env, stderr=stderr, clock=clock)
    except PluginError as exc:  # one line already
        stderr.write(f"{_PROG}: error: {exc}\n")
        return 1
    except OSError as exc:
        message = " ".join(str(exc).split())
        stderr.write(f"{_PROG}: error: {message}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    stdout.write(output + "\n")
    stdout.flush()
    return 0


def _request(args: Args, env: Mapping[str, str], info: ExecInfo) -> TokenRequest:
    cluster_id = (getattr(args, "cluster_id", None) or "").strip()
    region = explicit_region(args.region, env)
    if not cluster_id and info.cluster_id:
        # provideClusterInfo: the kubeconfig's cluster names its id and region (docs/exec-plugin.md).
        # Its region is the cluster's own, so it comes before AWS_REGION (but after --region).
        cluster_id = info.cluster_id
        region = args.region or info.region or region
    if not cluster_id:
        raise PluginError(
            "no cluster id: pass -i/--cluster-id, set KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID, "
            "or give the cluster's exec extension a cluster-id with provideClusterInfo: true"
        )
    if args.external_id and not args.role:
        raise PluginError("--external-id needs -r/--role")
    return TokenRequest(
        cluster_id=cluster_id,
        region=region,
        profile=args.profile or None,
        role_arn=args.role or None,
        external_id=args.external_id or None,
        session_name=args.session_name or None,
        forward_session_name=bool(args.forward_session_name),
        env=env,
    )


def _token_output(args: Args, *, env: Mapping[str, str], stderr: TextIO, clock: Callable[[], float]) -> str:
    info = parse_exec_info(env.get("KUBERNETES_EXEC_INFO"))
    if info.warning:
        stderr.write(f"{_PROG}: warning: {info.warning}\n")
    request = _request(args, env, info)

    def answer(token: str, expires_at: float) -> str:
        return token if args.token_only else format_exec_credential(info.api_version, token, expires_at)

    now = clock()
    cache = FileCache(default_cache_dir(env), stderr=stderr) if args.cache else None
    cached_creds: CachedCredentials | None = None
    if cache is not None:
        hit = cache.load_token(request.token_key(), now)
        if hit is not None:
            return answer(hit.token, hit.expiry())
        cached_creds = cache.load_credentials(request.credentials_key(), now)

    if cached_creds is not None:
        creds = cached_creds
    else:
        creds = _resolve(request, cache=cache, now=now, interactive=info.interactive, stderr=stderr)
    signature = _sign(creds, request.cluster_id, clock())
    signed_at = int(signature.signed_at.timestamp())
    # Never past the end of the credentials that signed it (reference issue #590).
    expires_at = token_expiry(signed_at, creds.expires_at)
    if cache is not None:
        cache.store_token(request.token_key(), CachedToken(signature.token, signed_at, expires_at, creds.expires_at))
    return answer(signature.token, expires_at)


def _aware(epoch_seconds: float) -> datetime:
    from datetime import UTC, datetime  # not needed on a cache hit

    return datetime.fromtimestamp(epoch_seconds, UTC)


def _resolve(
    request: TokenRequest, *, cache: FileCache | None, now: float, interactive: bool, stderr: TextIO
) -> CachedCredentials:
    # The slow path: botocore is imported here, and only here.
    from client_plugin import credentials

    resolved = credentials.resolve(
        request, now=_aware(now), cache=cache.botocore_view() if cache is not None else None, interactive=interactive
    )
    for warning in resolved.warnings:
        stderr.write(f"{_PROG}: warning: {warning}\n")
    creds = resolved.credentials
    entry = CachedCredentials(
        creds.access_key_id,
        creds.secret_access_key,
        creds.session_token,
        # Whole seconds, truncated: an expiry may only move earlier.
        None if creds.expires_at is None else int(creds.expires_at.timestamp()),
        resolved.region,
        resolved.host,
        resolved.signing_region,
    )
    # Only temporary credentials that did not come from the environment are kept:
    # long-term keys never get a second copy on disk.
    if cache is not None and resolved.cacheable and creds.expires_at is not None:
        cache.store_credentials(request.credentials_key(), entry)
    return entry


def _sign(creds: CachedCredentials, cluster_id: str, now: float) -> Signature:
    from client_plugin.presign import presign_get_caller_identity  # not needed on a cache hit

    return presign_get_caller_identity(
        access_key_id=creds.access_key_id,
        secret_access_key=creds.secret_access_key,
        session_token=creds.session_token,
        host=creds.host,
        signing_region=creds.signing_region,
        cluster_id=cluster_id,
        now=_aware(now),
    )
