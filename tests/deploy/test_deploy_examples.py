"""The example aws-auth and the shipped server configurations read cleanly with the server's
own parsers and pass `aws-auth lint`: what we tell people to deploy is what the server accepts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from authenticator.mapping.awsauth import parse_aws_auth
from authenticator.mapping.manifest import load_configmap_manifest
from authenticator.mapping.server_mappings import parse_server_mappings
from authenticator.server.config import load_config_with_warnings
from tests.support.deploy import DEPLOY

SERVER_CONFIGS = [
    DEPLOY / "base" / "config.yaml",
    DEPLOY / "overlays" / "deployment" / "config.yaml",
    DEPLOY / "examples" / "server-config.yaml",
]
EXAMPLES = [DEPLOY / "examples" / "aws-auth.yaml", DEPLOY / "examples" / "server-config.yaml"]


def test_example_aws_auth_parses_without_issues() -> None:
    result = parse_aws_auth(load_configmap_manifest((DEPLOY / "examples" / "aws-auth.yaml").read_text()))
    assert result.ok, result.failed_sections
    assert result.issues == ()
    assert len(result.roles) == 3
    assert [u.username for u in result.users] == ["alice"]
    assert result.accounts == ()


@pytest.mark.parametrize("path", SERVER_CONFIGS, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_server_config_mappings_parse_without_issues(path: Path) -> None:
    server = yaml.safe_load(path.read_text())["server"]
    mappings, warnings = parse_server_mappings(server["mapRoles"], server["mapUsers"], server["mapAccounts"])
    assert warnings == ()
    if path.name == "server-config.yaml":  # the annotated example carries one of each
        assert len(mappings.roles) == len(mappings.users) == 1


@pytest.mark.parametrize("path", SERVER_CONFIGS, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_server_configs_load_with_the_servers_loader(path: Path) -> None:
    config, warnings = load_config_with_warnings(str(path))
    assert warnings == []
    raw = yaml.safe_load(path.read_text())
    assert config.cluster_id == raw["clusterID"]
    assert config.state_dir == raw["server"]["stateDir"] == "/var/eks-iam-authenticator"  # the image's VOLUME
    assert config.port == 21362
    assert config.backend_mode == ("MountedFile", "EKSConfigMap", "CRD")


def _lint(path: Path) -> tuple[int, list[dict[str, Any]]]:
    argv = ["lint", "--no-config", "--format", "json", "--fail-on", "info", str(path)]
    result = subprocess.run(
        [sys.executable, "-m", "authenticator.lint", *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)["findings"]


@pytest.mark.parametrize("path", SERVER_CONFIGS[:2], ids=lambda p: str(p.relative_to(DEPLOY)))
def test_shipped_server_configs_lint_clean(path: Path) -> None:
    assert _lint(path) == (0, [])


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_lint_clean_but_for_their_placeholders(path: Path) -> None:
    # AA211: the documentation account id, to be replaced; AA705: the one IAM user, shown on purpose.
    _, findings = _lint(path)
    assert findings
    assert {f["rule"] for f in findings} <= {"AA211", "AA705"}
