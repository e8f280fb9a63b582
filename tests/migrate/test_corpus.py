"""The corpus: realistic aws-auth ConfigMaps, one per row of the classification table, and their plans.

Each ``NN_name.yaml`` may come with ``NN_name.cluster.json`` (what is known of the cluster: its
access entries, managed node roles, account) and ``NN_name.iam.json`` (the roles IAM knows, full
ARNs with their paths: ``--resolve-paths``). ``expected.json`` holds each plan: the rows with
their reason codes, and the exit code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from authenticator.mapping.model import SSOMatcher, sso_role_key
from authenticator.migrate.plan import ClusterFacts, Plan, build_plan, principal_name_key
from authenticator.migrate.source import read_aws_auth

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, Any] = json.loads((CORPUS / "expected.json").read_text())
FILES = sorted(p.name for p in CORPUS.glob("*.yaml"))


class FakeIam:
    """IAM as ``--resolve-paths`` sees it: GetRole by name, ListRoles under the SSO path."""

    def __init__(self, roles: list[str]) -> None:
        self.roles = roles

    def resolve(self, arn: str) -> str | None:
        key = principal_name_key(arn)
        return next((r for r in self.roles if principal_name_key(r) == key), None)

    def sso(self, matcher: SSOMatcher) -> list[str]:
        # The server's matching, on the ARN as STS reports it (without the path).
        found = []
        for role in self.roles:
            prefix, _, name = role.rpartition("/")
            if (
                "/aws-reserved/sso.amazonaws.com" in prefix
                and sso_role_key(f"{role.split('/', 1)[0]}/{name}") == matcher.key
            ):
                found.append(role)
        return found


def plan_for(name: str) -> Plan:
    stem = name.removesuffix(".yaml")
    cluster = None
    cluster_file = CORPUS / f"{stem}.cluster.json"
    if cluster_file.exists():
        raw = json.loads(cluster_file.read_text())
        raw["entries"] = tuple(raw.get("entries", ()))
        raw["managed_role_arns"] = frozenset(raw.get("managed_role_arns", ()))
        cluster = ClusterFacts(**raw)
    iam_file = CORPUS / f"{stem}.iam.json"
    lookups: dict[str, Any] = {}
    if iam_file.exists():
        iam = FakeIam(json.loads(iam_file.read_text())["roles"])
        lookups = {"resolve_role": iam.resolve, "sso_roles": iam.sso}
    return build_plan(read_aws_auth(name, (CORPUS / name).read_text()), cluster, **lookups)


def compact(plan: Plan) -> dict[str, Any]:
    rows = []
    for row in plan.rows:
        doc = row.as_json()
        doc["accessPolicies"] = [p["policyArn"].rsplit("/", 1)[-1] for p in doc["accessPolicies"]]
        doc["reasons"] = [r.split(":", 1)[0] for r in doc["reasons"]]
        rows.append(doc)
    return {"exit": plan.exit_code, "readyForApiMode": plan.ready_for_api_mode, "rows": rows}


def test_corpus_covers_every_row_of_the_table() -> None:
    assert len(FILES) >= 15
    assert set(EXPECTED) == set(FILES)
    plans = [compact(plan_for(name)) for name in FILES]
    actions = {r["action"] for p in plans for r in p["rows"]}
    assert actions == {"create", "exists", "skip-managed", "manual", "conflict", "blocked"}
    types = {r["type"] for p in plans for r in p["rows"]}
    assert types >= {"STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX"}
    reasons = {code for p in plans for r in p["rows"] for code in r["reasons"]}
    assert reasons >= {
        "reserved-username",
        "session-name-without-colon",
        "unsupported-placeholder",
        "system-group",
        "role-path-unknown",
        "role-unknown-to-iam",
        "sso-needs-iam",
        "map-accounts",
        "duplicate",
        "masters-policy",
        "cross-account-node-role",
        "node-extra-groups",
    }


@pytest.mark.parametrize("name", FILES)
def test_expected_plan(name: str) -> None:
    assert compact(plan_for(name)) == EXPECTED[name]


@pytest.mark.parametrize("name", FILES)
def test_every_row_points_at_its_entry(name: str) -> None:
    lines = (CORPUS / name).read_text().splitlines()
    for row in plan_for(name).rows:
        text = lines[row.line - 1]
        assert text.lstrip().startswith("- "), (row.source, text)
