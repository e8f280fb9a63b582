"""Credential sources as users configure them, in a temp HOME; moto answers AssumeRole.

The token is always minted for the real STS host of the partition table, even when
AssumeRole went to a custom endpoint (AWS_ENDPOINT_URL_STS pointing at moto).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authenticator.demo.sts_peer import StsPeer
from tests.support.plugin import (
    ACCESS_KEY,
    DecodedToken,
    base_env,
    decode_token,
    env_credentials,
    run_plugin,
    write_aws_config,
)

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/eks-admin"
PROFILE_KEY = "AKIAPROFILEKEYEXAMPL"


def _token(result_stdout: str) -> DecodedToken:
    return decode_token(json.loads(result_stdout)["status"]["token"])


def _ok(*args: str, env: dict[str, str], stdin: str | None = None) -> DecodedToken:
    result = run_plugin("-i", "creds-cluster", *args, env=env, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return _token(result.stdout)


# -- environment keys and region order ---------------------------------------


@pytest.mark.parametrize(
    ("flags", "env_region", "expected"),
    [
        (("--region", "eu-west-3"), {"AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "sa-east-1"}, "eu-west-3"),
        ((), {"AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "sa-east-1"}, "ap-south-1"),
        ((), {"AWS_DEFAULT_REGION": "sa-east-1"}, "sa-east-1"),
        ((), {}, "ca-central-1"),  # the profile's region
    ],
)
def test_region_order(home: Path, flags: tuple[str, ...], env_region: dict[str, str], expected: str) -> None:
    write_aws_config(home, config="[default]\nregion = ca-central-1\n")
    token = _ok(*flags, env=env_credentials(home, **env_region))
    assert token.host == f"sts.{expected}.amazonaws.com"
    assert token.scope_region == expected


def test_no_region_anywhere_is_us_east_1(home: Path) -> None:
    token = _ok(env=env_credentials(home))
    assert token.host == "sts.us-east-1.amazonaws.com"


@pytest.mark.parametrize(
    ("extra", "host", "scope"),
    [
        ({"AWS_USE_DUALSTACK_ENDPOINT": "true"}, "sts.eu-west-1.api.aws", "eu-west-1"),
        ({"AWS_USE_FIPS_ENDPOINT": "true"}, "sts-fips.eu-west-1.amazonaws.com", "eu-west-1"),
        ({"AWS_STS_REGIONAL_ENDPOINTS": "legacy"}, "sts.amazonaws.com", "us-east-1"),
        ({"AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9"}, "sts.eu-west-1.amazonaws.com", "eu-west-1"),
    ],
)
def test_endpoint_variants(home: Path, extra: dict[str, str], host: str, scope: str) -> None:
    token = _ok(env=env_credentials(home, AWS_REGION="eu-west-1", **extra))
    assert (token.host, token.scope_region) == (host, scope)


def test_env_keys_and_session_token(home: Path) -> None:
    token = _ok(env=env_credentials(home, AWS_SESSION_TOKEN="session/token+x=="))
    assert token.access_key_id == ACCESS_KEY
    assert token.params["X-Amz-Security-Token"] == "session/token+x=="


def test_token_only_prints_the_bare_token(home: Path) -> None:
    result = run_plugin("-i", "creds-cluster", "--token-only", env=env_credentials(home))
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("\n") and result.stdout.count("\n") == 1
    assert decode_token(result.stdout.strip()).access_key_id == ACCESS_KEY


# -- profiles ---------------------------------------------------------------------

_STATIC_PROFILE = (
    f"[dev]\naws_access_key_id = {PROFILE_KEY}\naws_secret_access_key = profilesecret\n",
    "[profile dev]\nregion = ap-northeast-1\n",
)


def test_profile_with_static_keys_by_flag(home: Path) -> None:
    write_aws_config(home, credentials=_STATIC_PROFILE[0], config=_STATIC_PROFILE[1])
    # An explicit --profile wins over environment keys, as in botocore and awscli.
    token = _ok("--profile", "dev", env=env_credentials(home))
    assert token.access_key_id == PROFILE_KEY
    assert token.host == "sts.ap-northeast-1.amazonaws.com"
    assert "X-Amz-Security-Token" not in token.params


def test_profile_with_static_keys_by_env(home: Path) -> None:
    write_aws_config(home, credentials=_STATIC_PROFILE[0], config=_STATIC_PROFILE[1])
    token = _ok(env=base_env(home, AWS_PROFILE="dev"))
    assert token.access_key_id == PROFILE_KEY
    assert token.host == "sts.ap-northeast-1.amazonaws.com"


# -- AssumeRole through moto ----------------------------------------------------------


def _assumed(moto_sts: StsPeer) -> list:  # type: ignore[type-arg]
    return moto_sts.assumed_roles(ACCOUNT)


def test_profile_role_arn_with_source_profile(home: Path, moto_sts: StsPeer) -> None:
    write_aws_config(
        home,
        credentials=f"[base]\naws_access_key_id = {PROFILE_KEY}\naws_secret_access_key = basesecret\n",
        config=f"[profile admin]\nrole_arn = {ROLE}\nsource_profile = base\nregion = us-west-2\n",
    )
    token = _ok("--profile", "admin", env=base_env(home, AWS_ENDPOINT_URL_STS=moto_sts.url))
    roles = _assumed(moto_sts)
    assert len(roles) == 1
    assert roles[0].role_arn == ROLE
    assert token.access_key_id == roles[0].access_key_id != PROFILE_KEY
    assert token.params["X-Amz-Security-Token"] == roles[0].session_token
    # AssumeRole went to moto; the token names the real host.
    assert token.host == "sts.us-west-2.amazonaws.com"


def test_role_flag_with_external_id_and_session_name(home: Path, moto_sts: StsPeer) -> None:
    env = env_credentials(home, AWS_ENDPOINT_URL_STS=moto_sts.url, AWS_REGION="eu-north-1")
    token = _ok("-r", ROLE, "-e", "ext-1234", "-s", "alice-session", env=env)
    roles = _assumed(moto_sts)
    assert len(roles) == 1
    assert (roles[0].role_arn, roles[0].external_id, roles[0].session_name) == (ROLE, "ext-1234", "alice-session")
    assert token.access_key_id == roles[0].access_key_id
    assert token.params["X-Amz-Security-Token"] == roles[0].session_token
    assert token.host == "sts.eu-north-1.amazonaws.com"


def test_role_from_default_role_env(home: Path, moto_sts: StsPeer) -> None:
    env = env_credentials(home, AWS_ENDPOINT_URL_STS=moto_sts.url, DEFAULT_ROLE=ROLE)
    token = _ok(env=env)
    roles = _assumed(moto_sts)
    assert [r.role_arn for r in roles] == [ROLE]
    assert token.access_key_id == roles[0].access_key_id


def test_forward_session_name(home: Path, moto_sts: StsPeer) -> None:
    import boto3

    # The base identity is itself an assumed-role session named "bob".
    sts = boto3.client(
        "sts",
        endpoint_url=moto_sts.url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key="x",
    )
    base = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/base", RoleSessionName="bob")["Credentials"]
    env = base_env(
        home,
        AWS_ACCESS_KEY_ID=base["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=base["SecretAccessKey"],
        AWS_SESSION_TOKEN=base["SessionToken"],
        AWS_ENDPOINT_URL_STS=moto_sts.url,
    )
    token = _ok("-r", ROLE, "--forward-session-name", env=env)
    roles = _assumed(moto_sts)
    assert [(r.role_arn, r.session_name) for r in roles] == [
        (f"arn:aws:iam::{ACCOUNT}:role/base", "bob"),
        (ROLE, "bob"),
    ]
    assert token.access_key_id == roles[1].access_key_id


def test_web_identity_from_env(home: Path, moto_sts: StsPeer) -> None:
    token_file = home / "web-identity-token"
    token_file.write_text("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
    env = base_env(
        home,
        AWS_ROLE_ARN=ROLE,
        AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file),
        AWS_ROLE_SESSION_NAME="pod-session",
        AWS_ENDPOINT_URL_STS=moto_sts.url,
        AWS_REGION="us-east-2",
    )
    token = _ok(env=env)
    roles = _assumed(moto_sts)
    assert [(r.role_arn, r.session_name) for r in roles] == [(ROLE, "pod-session")]
    assert token.access_key_id == roles[0].access_key_id
    assert token.params["X-Amz-Security-Token"] == roles[0].session_token


_MFA_CONFIG = (
    f"[base]\naws_access_key_id = {PROFILE_KEY}\naws_secret_access_key = basesecret\n",
    f"[profile mfa]\nrole_arn = {ROLE}\nsource_profile = base\n"
    f"mfa_serial = arn:aws:iam::{ACCOUNT}:mfa/alice\nregion = us-west-2\n",
)


def test_mfa_prompt_goes_to_stderr_and_the_cache_spares_the_next_one(home: Path, moto_sts: StsPeer) -> None:
    write_aws_config(home, credentials=_MFA_CONFIG[0], config=_MFA_CONFIG[1])
    env = base_env(home, AWS_PROFILE="mfa", AWS_ENDPOINT_URL_STS=moto_sts.url)

    first = run_plugin("-i", "mfa-cluster", "--cache", env=env, stdin="123456\n")
    assert first.returncode == 0, first.stderr
    assert "MFA" in first.stderr
    assert _token(first.stdout).access_key_id == _assumed(moto_sts)[0].access_key_id

    # A token for another cluster is not in the cache, but the role credentials are:
    # no prompt (stdin is empty) and no second AssumeRole.
    second = run_plugin("-i", "other-cluster", "--cache", env=env, stdin="")
    assert second.returncode == 0, second.stderr
    assert "MFA" not in second.stderr
    assert len(_assumed(moto_sts)) == 1
    assert _token(second.stdout).access_key_id == _assumed(moto_sts)[0].access_key_id


def test_mfa_without_an_interactive_kubectl_is_one_clear_line(home: Path, moto_sts: StsPeer) -> None:
    write_aws_config(home, credentials=_MFA_CONFIG[0], config=_MFA_CONFIG[1])
    info = '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}\n'
    env = base_env(home, AWS_PROFILE="mfa", AWS_ENDPOINT_URL_STS=moto_sts.url, KUBERNETES_EXEC_INFO=info)
    result = run_plugin("-i", "mfa-cluster", env=env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "MFA code is needed" in result.stderr
    assert _assumed(moto_sts) == []
