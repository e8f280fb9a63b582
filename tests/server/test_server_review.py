"""Reviewer: the pipeline token -> parse_token -> STS -> mapping -> ReviewResult."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from authenticator import metrics
from authenticator.partitions import get_partition
from authenticator.server.review import INTERNAL_ERROR, Reviewer
from authenticator.token import RejectionKind, TokenRejected
from authenticator.verifier import TokenVerifier
from tests.support.identities import role_identity, user_identity
from tests.support.mapping import FakeMapper
from tests.support.sts import FakeSTS
from tests.support.tokens import NOW, make_token


def _reviewer(sts: FakeSTS, mapped: dict[str, tuple[str, tuple[str, ...]]] | None = None, **kwargs: object) -> Reviewer:
    table = mapped or {}
    verifier = TokenVerifier(
        sts=sts,
        partition=get_partition(str(kwargs.pop("partition", "aws"))),
        clock=kwargs.pop("clock", lambda: NOW),  # type: ignore[arg-type]
    )
    return Reviewer(
        verifier=verifier,
        mapper=FakeMapper(lambda ident: table.get(ident.canonical_arn)),
        **kwargs,  # type: ignore[arg-type]
    )


def test_allowed_user_uid_and_extra() -> None:
    ident = user_identity()
    sts = FakeSTS(ident)
    result = asyncio.run(_reviewer(sts, {ident.canonical_arn: ("alice", ("devs",))}).review(make_token()))
    assert result.allowed
    assert result.result == metrics.SUCCESS
    assert result.http_status == 200
    assert result.user is not None
    assert result.user.uid == "aws-iam-authenticator:111122223333:AIDAEXAMPLEUSERID0001"
    assert result.user.groups == ("devs",)
    assert result.user.extra is not None
    assert result.user.extra["sessionName"] == [""]
    assert result.user.extra["principalId"] == ["AIDAEXAMPLEUSERID0001"]
    assert result.sts_region == "us-east-1"
    assert result.match_source == "MountedFile"
    # STS got the request parse_token made, with the access key id from the credential.
    assert len(sts.calls) == 1
    assert sts.calls[0] == "AKIAEXAMPLEKEY000001"


def test_scrubbed_account_gets_administrative_uid_and_no_extra() -> None:
    ident = role_identity(account="999988887777")
    reviewer = _reviewer(
        FakeSTS(ident), {ident.canonical_arn: ("ops", ("admins",))}, scrubbed_accounts=["999988887777"]
    )
    result = asyncio.run(reviewer.review(make_token()))
    assert result.allowed
    assert result.scrubbed
    assert result.user is not None
    assert result.user.uid == "aws-iam-authenticator:administrative:ops"
    assert result.user.extra is None


def test_other_accounts_are_not_scrubbed() -> None:
    ident = role_identity(account="111122223333")
    reviewer = _reviewer(FakeSTS(ident), {ident.canonical_arn: ("ops", ())}, scrubbed_accounts=["999988887777"])
    result = asyncio.run(reviewer.review(make_token()))
    assert not result.scrubbed
    assert result.user is not None and result.user.extra is not None


def test_the_injected_clock_decides_expiry() -> None:
    ident = user_identity()
    token = make_token(NOW)
    fresh = _reviewer(FakeSTS(ident), {ident.canonical_arn: ("alice", ())}, clock=lambda: NOW + timedelta(minutes=14))
    assert asyncio.run(fresh.review(token)).allowed
    sts = FakeSTS(ident)
    late = _reviewer(sts, {ident.canonical_arn: ("alice", ())}, clock=lambda: NOW + timedelta(minutes=16))
    result = asyncio.run(late.review(token))
    assert result.result == metrics.INVALID_TOKEN
    assert result.http_status == 403
    assert "expired" in (result.error or "")
    assert sts.calls == []


def test_host_of_another_partition_is_invalid() -> None:
    sts = FakeSTS(user_identity())
    result = asyncio.run(_reviewer(sts, partition="aws-cn").review(make_token()))
    assert result.result == metrics.INVALID_TOKEN
    assert sts.calls == []


def test_sts_throttling_is_429_and_error_403() -> None:
    throttled = asyncio.run(
        _reviewer(FakeSTS(error=TokenRejected(RejectionKind.STS_THROTTLING, "throttled"))).review(make_token())
    )
    assert (throttled.result, throttled.http_status, throttled.error) == (metrics.STS_THROTTLING, 429, "throttled")
    assert throttled.sts_region == "us-east-1"
    failed = asyncio.run(
        _reviewer(FakeSTS(error=TokenRejected(RejectionKind.STS_ERROR, "403 from STS"))).review(make_token())
    )
    assert (failed.result, failed.http_status) == (metrics.STS_ERROR, 403)


def test_unmapped_is_unknown_user_with_identity_kept_for_the_log() -> None:
    ident = user_identity()
    result = asyncio.run(_reviewer(FakeSTS(ident)).review(make_token()))
    assert (result.result, result.http_status) == (metrics.UNKNOWN_USER, 403)
    assert result.identity == ident
    assert result.user is None


def test_a_bug_is_500_and_its_message_is_not_logged(caplog) -> None:  # type: ignore[no-untyped-def]
    token = make_token()
    result = asyncio.run(_reviewer(FakeSTS(error=RuntimeError(f"boom {token}"))).review(token))
    assert (result.result, result.http_status) == (INTERNAL_ERROR, 500)
    assert "RuntimeError" in caplog.text
    assert token not in caplog.text
