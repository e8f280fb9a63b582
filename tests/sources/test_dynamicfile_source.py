"""DynamicFile source: load, change, invalid JSON, unreadable, deletion, userid strict mode."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from authenticator.identity import Identity
from authenticator.mapping.chain import MappingChain, Match
from authenticator.mapping.sources.dynamicfile import DynamicFileSource, parse_dynamic_file, strip_path
from tests.support.identities import role_identity, user_identity

ACCOUNT = "111122223333"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/admins"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"


def failures() -> float:
    return REGISTRY.get_sample_value("aws_iam_authenticator_dynamicfile_failures_total") or 0.0


def write(path: Path, content: object) -> None:
    """Replace the file atomically (write + rename), as config-management tools do."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(content if isinstance(content, str) else json.dumps(content))
    os.replace(tmp, path)


def doc(
    roles: list[dict[str, Any]] | None = None,
    users: list[dict[str, Any]] | None = None,
    accounts: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "version": "1",
        "lastUpdatedDateTime": "1700000000",
        "mapRoles": roles or [],
        "mapUsers": users or [],
        "mapAccounts": accounts or [],
    }


ROLE = {"rolearn": ADMIN, "username": "admin", "groups": ["system:masters"]}
USER = {"userarn": ALICE, "username": "alice", "groups": ["devs"]}


def resolved(chain: MappingChain, identity: Identity) -> Match:
    match = chain.resolve(identity)
    assert match is not None, f"{identity.canonical_arn} is not mapped"
    return match


def test_loads_and_follows_changes(tmp_path: Path) -> None:
    path = tmp_path / "mappings.json"
    write(path, doc([ROLE], [USER], ["444455556666"]))
    source = DynamicFileSource(path=str(path))
    assert source.ready
    chain = MappingChain([source])
    assert resolved(chain, role_identity("admins", account=ACCOUNT)).username == "admin"
    assert resolved(chain, user_identity("alice", account=ACCOUNT)).groups == ("devs",)
    assert resolved(chain, user_identity("x", account="444455556666")).kind == "account"

    assert source.check_for_changes() is False  # unchanged: not even re-read
    write(path, doc([ROLE | {"username": "root-ish"}]))
    assert source.check_for_changes() is True
    assert resolved(chain, role_identity("admins", account=ACCOUNT)).username == "root-ish"
    assert chain.resolve(user_identity("alice", account=ACCOUNT)) is None


def test_keys_are_case_insensitive_like_go_json(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    write(path, {"Version": "2", "MapRoles": [{"RoleARN": ADMIN, "UserName": "a", "Groups": ["g"]}]})
    source = DynamicFileSource(path=str(path))
    assert [(r.rolearn, r.username, r.groups) for r in source.snapshot().roles] == [(ADMIN, "a", ("g",))]


@pytest.mark.parametrize(
    "bad",
    [
        "{not json",
        "[]",
        json.dumps(doc([{"username": "no-arn"}])),
        json.dumps(doc(users=[{"username": "no-arn"}])),
        json.dumps(doc(accounts=[444455556666])),  # type: ignore[list-item]  # a number: the parser must refuse it
        json.dumps({"mapRoles": {"rolearn": ADMIN}}),
    ],
    ids=["syntax", "not-object", "role-without-arn", "user-without-arn", "account-number", "roles-not-list"],
)
def test_invalid_file_keeps_previous_mappings_and_counts(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "m.json"
    write(path, doc([ROLE]))
    source = DynamicFileSource(path=str(path))
    before = failures()
    write(path, bad)
    assert source.check_for_changes() is False
    assert [r.rolearn for r in source.snapshot().roles] == [ADMIN]
    assert failures() == before + 1
    assert "file" in source.status().failures
    assert source.check_for_changes() is False and failures() == before + 1  # counted once per change

    write(path, doc(users=[USER]))
    assert source.check_for_changes() is True
    assert source.snapshot().roles == () and source.status().failures == {}


def test_unreadable_file_keeps_previous_mappings(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    write(path, doc([ROLE]))
    source = DynamicFileSource(path=str(path))
    before = failures()
    path.unlink()
    path.mkdir()  # stat works, open fails
    assert source.check_for_changes() is False
    assert [r.rolearn for r in source.snapshot().roles] == [ADMIN]
    assert failures() >= before + 1


def test_deletion_empties_the_source_and_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "m.json"
    write(path, doc([ROLE], accounts=["444455556666"]))
    source = DynamicFileSource(path=str(path))
    with caplog.at_level(logging.ERROR, logger="authenticator.mapping"):
        path.unlink()
        assert source.check_for_changes() is True
    assert source.snapshot().roles == () and source.snapshot().accounts == ()
    assert source.ready  # it did load once; /readyz stays green, the status says why it is empty
    assert any("DELETED" in r.getMessage() for r in caplog.records)
    assert source.status().failures
    write(path, doc([ROLE]))
    assert source.check_for_changes() is True
    assert [r.rolearn for r in source.snapshot().roles] == [ADMIN]


def test_missing_at_start_is_not_ready_until_it_appears(tmp_path: Path) -> None:
    path = tmp_path / "later.json"
    source = DynamicFileSource(path=str(path))
    assert not source.ready
    write(path, doc([ROLE]))
    assert source.check_for_changes() is True
    assert source.ready


def test_userid_strict_mode(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    write(
        path,
        doc(
            roles=[
                {"rolearn": f"arn:aws:iam::{ACCOUNT}:role/team/admins", "userid": "AROAADMIN", "username": "admin"},
                {"userid": "AROANOARN", "username": "by-id-only", "groups": ["g"]},
            ],
            users=[{"userarn": ALICE, "userid": "AIDAALICE", "username": "alice"}],
        ),
    )
    source = DynamicFileSource(path=str(path), userid_strict=True)
    assert source.snapshot().roles == () and source.snapshot().users == ()  # never matched by ARN alone

    admin = role_identity("admins", account=ACCOUNT)
    found = source.lookup(_with_user_id(admin, "AROAADMIN"))
    assert found is not None and found[0] == "role" and found[1].username == "admin"  # path stripped, ARN agrees
    # Right ARN, wrong userid (the role was deleted and re-created): no match.
    assert source.lookup(_with_user_id(admin, "AROAOTHER")) is None
    # Right userid, different ARN: denied.
    assert source.lookup(_with_user_id(role_identity("other", account=ACCOUNT), "AROAADMIN")) is None
    # An entry with only a userid matches any ARN with that userid.
    by_id = source.lookup(_with_user_id(role_identity("renamed", account=ACCOUNT), "AROANOARN"))
    assert by_id is not None
    kind, entry = by_id
    assert (kind, entry.username, entry.groups) == ("role", "by-id-only", ("g",))
    alice = user_identity("alice", account=ACCOUNT, user_id="AIDAALICE")
    assert (found := source.lookup(alice)) is not None and found[0] == "user"

    # Strict mode needs a userid on every entry: otherwise the whole file is rejected.
    before = failures()
    write(path, doc(users=[USER]))
    assert source.check_for_changes() is False
    assert failures() == before + 1
    assert (found := source.lookup(alice)) is not None and found[0] == "user"  # the old content stays


def test_non_strict_source_has_no_userid_lookup(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    write(path, doc(users=[USER | {"userid": "AIDAALICE"}]))
    source = DynamicFileSource(path=str(path))
    assert source.lookup(user_identity("alice", account=ACCOUNT, user_id="AIDAALICE")) is None
    assert [u.userarn for u in source.snapshot().users] == [ALICE]


def test_polling_task_picks_up_changes(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    write(path, doc([ROLE]))

    async def scenario() -> None:
        source = DynamicFileSource(path=str(path), poll_interval=0.01)
        await source.start()
        try:
            write(path, doc(users=[USER]))
            changed = await asyncio.to_thread(source.wait_until, lambda: bool(source.snapshot().users), 10)
            assert changed, "the polling task did not pick up the change within 10 s"
        finally:
            await source.stop()
        assert source.snapshot().roles == ()

    asyncio.run(scenario())


def test_parse_and_strip_path_helpers() -> None:
    assert strip_path("arn:aws:iam::1:role/a/b/name") == "arn:aws:iam::1:role/name"
    assert strip_path("arn:aws:iam::1:user/x") == "arn:aws:iam::1:user/x"
    content = parse_dynamic_file(json.dumps(doc([ROLE], [USER], ["012345678901"])))
    assert content.version == "1" and content.accounts == ("012345678901",)


def _with_user_id(identity: Identity, user_id: str) -> Identity:
    return replace(identity, user_id=user_id)
