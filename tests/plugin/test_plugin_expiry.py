"""expirationTimestamp never outlives the credentials that signed the token (reference issue #590).

The credentials come from botocore's own sources as users configure them: a profile's
``credential_process`` whose credentials end soon, and a profile's ``role_arn`` assumed from moto.
The plugin runs as the installed console script.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from authenticator.demo.sts_peer import StsPeer
from client_plugin.expiry import CREDENTIALS_MARGIN, TOKEN_LIFETIME, token_expiry
from tests.support.plugin import base_env, decode_token, run_plugin, write_aws_config

MIN = 60
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/short-session"
BASE_KEY = "AKIABASEKEYEXAMPLE00"

# A credential_process that hands out temporary credentials ending argv[1] seconds from now,
# a fresh session token on every call, and logs each expiry it returned (one epoch per line).
_PROCESS = """\
import json, sys, time
from datetime import datetime, timezone
expiry = int(time.time()) + int(sys.argv[1])
with open(sys.argv[2], "a") as f:
    f.write(f"{expiry}\\n")
print(json.dumps({
    "Version": 1,
    "AccessKeyId": "ASIAPROCESSKEYEXAMPL",
    "SecretAccessKey": "processsecret",
    "SessionToken": f"session-{expiry}-{time.time_ns()}",
    "Expiration": datetime.fromtimestamp(expiry, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
}))
"""


def _epoch(stamp: str) -> int:
    return int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def _signed_at(token: str) -> int:
    signed = datetime.strptime(decode_token(token).params["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    return int(signed.replace(tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    ("signed", "credentials_end", "told"),
    [
        (0, None, 14 * MIN),  # long-term keys: the token's own 14 minutes
        (0, 2 * 60 * MIN, 14 * MIN),  # credentials outlive the token
        (0, 15 * MIN, 14 * MIN),  # a minute short of either end: the same instant
        (0, 14 * MIN + 30, 13 * MIN + 30),
        (0, 5 * MIN, 4 * MIN),  # a minute short of the credentials' end
        (100, 100 + 61, 101),
        (100, 100 + 60, 160),  # within the margin: the credentials' own end, never later
        (100, 100 + 10, 110),
    ],
)
def test_token_expiry_rule(signed: int, credentials_end: int | None, told: int) -> None:
    assert token_expiry(signed, credentials_end) == told
    if credentials_end is not None:
        assert told <= credentials_end
        assert told >= min(signed + TOKEN_LIFETIME, credentials_end - 2 * MIN)
    assert CREDENTIALS_MARGIN <= 2 * MIN


def _process_profile(home: Path, lifetime: int) -> Path:
    script = home / "credential_process.py"
    script.write_text(_PROCESS)
    log = home / "issued.log"
    write_aws_config(
        home,
        config=f"[profile short]\ncredential_process = {sys.executable} {script} {lifetime} {log}\n"
        "region = eu-west-1\n",
    )
    return log


def _issued(log: Path) -> list[int]:
    return [int(line) for line in log.read_text().split()] if log.exists() else []


def _run(home: Path, *flags: str, **env: str) -> tuple[str, int]:
    result = run_plugin("-i", "expiry-cluster", *flags, env=base_env(home, **env))
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)["status"]
    return status["token"], _epoch(status["expirationTimestamp"])


def test_short_process_credentials_end_the_token_a_minute_early(home: Path) -> None:
    log = _process_profile(home, 5 * MIN)
    token, told = _run(home, AWS_PROFILE="short")
    credentials_end = _issued(log)[-1]  # the credentials botocore handed over last signed the token
    assert decode_token(token).params["X-Amz-Security-Token"].startswith(f"session-{credentials_end}-")
    assert told == credentials_end - CREDENTIALS_MARGIN
    assert told < _signed_at(token) + TOKEN_LIFETIME


def test_long_process_credentials_keep_the_fourteen_minutes(home: Path) -> None:
    _process_profile(home, 2 * 60 * MIN)
    token, told = _run(home, AWS_PROFILE="short")
    assert told == _signed_at(token) + TOKEN_LIFETIME


def test_cache_answers_the_same_instant(home: Path) -> None:
    log = _process_profile(home, 5 * MIN)
    first_token, first_told = _run(home, "--cache", AWS_PROFILE="short")
    calls = len(_issued(log))
    second_token, second_told = _run(home, "--cache", AWS_PROFILE="short")
    # A hit (the process did not run again) answers with the instant the first run told kubectl:
    # four minutes after signing, not fourteen.
    assert len(_issued(log)) == calls
    assert (second_token, second_told) == (first_token, first_told)
    assert first_told == _issued(log)[-1] - CREDENTIALS_MARGIN


def test_cache_never_reuses_a_token_past_a_minute_before_that_instant(home: Path) -> None:
    # Credentials ending 100 s after issue: kubectl is told 40 s; a cached token would have to
    # keep 60 s, so every run signs anew with fresh credentials.
    log = _process_profile(home, 100)
    first_token, first_told = _run(home, "--cache", AWS_PROFILE="short")
    assert first_told == _issued(log)[-1] - CREDENTIALS_MARGIN
    calls = len(_issued(log))
    second_token, _ = _run(home, "--cache", AWS_PROFILE="short")
    assert len(_issued(log)) > calls
    assert second_token != first_token


def test_assumed_role_session_ends_the_token(home: Path, moto_sts: StsPeer) -> None:
    # STS's shortest session, 15 minutes: the token is told a minute before it ends.
    write_aws_config(
        home,
        credentials=f"[base]\naws_access_key_id = {BASE_KEY}\naws_secret_access_key = basesecret\n",
        config=f"[profile admin]\nrole_arn = {ROLE}\nsource_profile = base\nduration_seconds = 900\n"
        "region = us-west-2\n",
    )
    token, told = _run(home, AWS_PROFILE="admin", AWS_ENDPOINT_URL_STS=moto_sts.url)
    sessions = moto_sts.assumed_roles(ACCOUNT)
    signer = next(s for s in sessions if s.access_key_id == decode_token(token).access_key_id)
    session_end = int(signer.expiration.replace(tzinfo=UTC).timestamp())
    assert told == session_end - CREDENTIALS_MARGIN
    assert told <= _signed_at(token) + TOKEN_LIFETIME
