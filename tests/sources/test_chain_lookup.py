"""MappingChain over a DynamicFile in userid strict mode: the chain asks the source's ``lookup``."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from authenticator.identity import Identity
from authenticator.mapping.chain import IdentityLookup, MappingChain, MappingDenied
from authenticator.mapping.sources.dynamicfile import DynamicFileSource
from authenticator.mapping.sources.file import MountedFileSource
from tests.support.identities import role_identity, user_identity

ACCOUNT = "111122223333"
ROLE_ID = "AROAROLEID000000001"


def dynamic(tmp_path: Path, doc: dict[str, Any], *, strict: bool) -> DynamicFileSource:
    path = tmp_path / "mappings.json"
    path.write_text(json.dumps(doc))
    return DynamicFileSource(path=str(path), userid_strict=strict)


def identity(role: str = "deployers", user_id: str = ROLE_ID) -> Identity:
    return dataclasses.replace(role_identity(role, "ci-1", account=ACCOUNT), user_id=user_id)


def test_strict_mode_maps_by_userid_through_the_chain(tmp_path: Path) -> None:
    doc = {"mapRoles": [{"userid": ROLE_ID, "username": "deploy:{{SessionName}}", "groups": ["deployers"]}]}
    source = dynamic(tmp_path, doc, strict=True)
    assert isinstance(source, IdentityLookup)
    chain = MappingChain([source])
    user = asyncio.run(chain.map(identity()))
    assert (user.username, user.groups, user.match.kind, user.match.source) == (
        "deploy:ci-1",
        ("deployers",),
        "role",
        "DynamicFile",
    )
    with pytest.raises(MappingDenied):  # another UserId: no match
        asyncio.run(chain.map(identity(user_id="AROASOMEONEELSE0001")))


def test_strict_mode_entry_with_arn_must_agree(tmp_path: Path) -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:role/team/deployers"  # the path is stripped before comparing
    doc = {"mapRoles": [{"rolearn": arn, "userid": ROLE_ID, "username": "d", "groups": []}]}
    chain = MappingChain([dynamic(tmp_path, doc, strict=True)])
    assert chain.resolve(identity()) is not None
    assert chain.resolve(identity(role="other")) is None  # same UserId, different ARN: denied


def test_without_strict_mode_the_arn_index_answers(tmp_path: Path) -> None:
    doc = {"mapUsers": [{"userarn": f"arn:aws:iam::{ACCOUNT}:user/alice", "userid": "AIDAX", "username": "alice"}]}
    chain = MappingChain([dynamic(tmp_path, doc, strict=False)])
    match = chain.resolve(user_identity("alice", account=ACCOUNT, user_id="AIDANOTTHESAME"))
    assert match is not None and match.username == "alice"


def test_lookup_keeps_the_source_order(tmp_path: Path) -> None:
    first = MountedFileSource(map_roles=[{"rolearn": f"arn:aws:iam::{ACCOUNT}:role/deployers", "username": "mounted"}])
    doc = {"mapRoles": [{"userid": ROLE_ID, "username": "dynamic"}], "mapAccounts": [ACCOUNT]}
    strict = dynamic(tmp_path, doc, strict=True)
    assert MappingChain([first, strict]).resolve(identity()).username == "mounted"  # type: ignore[union-attr]
    assert MappingChain([strict, first]).resolve(identity()).username == "dynamic"  # type: ignore[union-attr]
    # No userid match: the strict source's mapAccounts still applies, before the next source.
    account = MappingChain([strict, first]).resolve(identity(user_id="AROANOMATCH00000001"))
    assert account is not None and (account.kind, account.source) == ("account", "DynamicFile")
