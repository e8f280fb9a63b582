"""The pure core, in-process: the linter must see exactly the text the API server sent, and a
finding's position must come back inside that section's text, however the manifest the guard
writes for the linter had to quote it."""

from __future__ import annotations

import pytest

from authenticator.admission.judge import judge, manifest_text
from authenticator.admission.models import AdmissionRequest
from authenticator.lint.document import load_targets
from tests.admission.conftest import ACCOUNT, NODES, configmap
from tests.support.admission import review

TRICKY = [
    "- rolearn: x\r\n  username: y\r\n",  # CRLF
    "  - rolearn: x\n",  # indented first line
    "- a\n\n\n",  # kept blank lines
    "- a",  # no final newline
    "- a  \n- b\n",  # trailing spaces
    "- é ü 😀\n",
    "\t- x\n",
    "- x\n\x85- y\n",  # NEL, a YAML line break
    "- x\u2028y\n",
    "- a\x7f\n",
    "- a\ufeff\n",
    "",
    " ",
    "- a: 'b\"c\\\\'\n",
]


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_the_linter_reads_exactly_the_section_sent(text: str) -> None:
    (target,) = load_targets("aws-auth", manifest_text({"mapRoles": text, "mapUsers": text}))
    assert target.sections["mapRoles"].text == text
    assert target.sections["mapUsers"].text == text


WITH_PATH = f"- rolearn: arn:aws:iam::{ACCOUNT}:role/team/devs\n  username: d\n  groups: [devs]"


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (NODES + WITH_PATH + "\n", "AA202 mapRoles 6:12"),  # a | block
        (NODES + WITH_PATH + "  \n", "AA202 mapRoles 6:12"),  # trailing spaces: double-quoted
        (NODES + WITH_PATH.replace("team/devs", "team/dévs") + "\n", "AA202 mapRoles 6:12"),
        (WITH_PATH.replace("\n", "\r\n") + "\r\n", "AA202 mapRoles 1:12"),
        (WITH_PATH.split("\n")[0], "AA202 mapRoles 1:12"),  # one line, no newline: single-quoted
        ("  " + WITH_PATH.replace("\n", "\n  ") + "\n", "AA202 mapRoles 1:14"),  # indented block
    ],
    ids=["literal", "trailing-space", "non-ascii", "crlf", "one-line", "indented"],
)
def test_positions_are_inside_the_section_text(section: str, expected: str) -> None:
    body = review("CREATE", configmap(section))
    verdict = judge(AdmissionRequest.model_validate(body["request"]))
    assert not verdict.allowed
    assert expected in verdict.message


# The old object of an UPDATE is read only where it differs from the new one: an unchanged section
# maps what the linter already read in the new object. Both readings must agree with the server's.

USERS = f"- userarn: arn:aws:iam::{ACCOUNT}:user/alice\n  username: alice\n  groups: [devs]\n"
ROLES = NODES + f"- rolearn: arn:aws:iam::{ACCOUNT}:role/devs\n  username: d\n  groups: [devs]\n"
PAIRS = [
    ({"mapRoles": ROLES, "mapUsers": USERS}, {"mapRoles": ROLES}),  # mapUsers removed
    ({"mapRoles": ROLES, "mapUsers": USERS}, {"mapRoles": ROLES, "mapUsers": "[]"}),
    ({"mapRoles": ROLES}, {"mapRoles": NODES}),  # mapRoles changed
    ({"mapRoles": ROLES, "mapAccounts": f"- '{ACCOUNT}'\n"}, {"mapRoles": ROLES}),
    ({"mapRoles": ROLES + "   broken: [\n"}, {"mapRoles": ROLES}),  # the old section failed
    ({"mapRoles": ROLES + "   broken: [\n", "mapUsers": USERS}, {"mapRoles": ROLES + "   broken: [\n"}),
    ({"mapRoles": 5, "mapUsers": USERS}, {"mapRoles": 5}),  # not a string, in both
    ({}, {"mapRoles": ROLES}),
    ({"mapUsers": USERS}, {"mapRoles": ROLES, "mapUsers": USERS}),
]


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=range(len(PAIRS)))
def test_the_old_object_maps_what_the_server_would_read(old: dict[str, object], new: dict[str, object]) -> None:
    from authenticator.admission.judge import _old_mappings
    from authenticator.lint.engine import lint_text
    from authenticator.mapping.awsauth import parse_aws_auth

    (target,) = lint_text("aws-auth", manifest_text(new)).targets
    assert _old_mappings(old, new, target) == parse_aws_auth(old).mapping_set


def test_a_section_sent_unchanged_is_not_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from authenticator.admission import judge as judge_module
    from authenticator.mapping.awsauth import parse_aws_auth as real
    from tests.admission.conftest import requester

    read: list[set[str]] = []

    def recording(data: dict[str, object], *args: object, **kwargs: object) -> object:
        read.append(set(data))
        return real(data)

    monkeypatch.setattr(judge_module, "parse_aws_auth", recording)
    old = configmap(ROLES, mapUsers=USERS)
    new = configmap(ROLES)
    user = requester(f"arn:aws:iam::{ACCOUNT}:user/alice")
    user["extra"]["arn"] = user["extra"]["canonicalArn"]
    verdict = judge(AdmissionRequest.model_validate(review("UPDATE", new, old, user=user)["request"]))
    assert "would remove your own access" in verdict.message
    assert read == [{"mapUsers"}]
