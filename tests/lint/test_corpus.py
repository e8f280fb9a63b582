"""The corpus: real-world broken aws-auth ConfigMaps, their findings and line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from authenticator.lint.config import LintConfig
from authenticator.lint.document import Target, load_targets
from authenticator.lint.engine import lint_text
from authenticator.mapping.awsauth import parse_aws_auth
from authenticator.mapping.manifest import load_configmap_manifest

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, list[str]] = yaml.safe_load((CORPUS / "expected.yaml").read_text())
FILES = sorted(p.name for p in CORPUS.iterdir() if p.name != "expected.yaml")


def test_corpus_is_big_enough() -> None:
    broken = [name for name in FILES if not name.startswith("clean")]
    assert len(broken) >= 25
    assert set(EXPECTED) == set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_expected_findings(name: str) -> None:
    text = (CORPUS / name).read_text(encoding="utf-8")
    report = lint_text(name, text, LintConfig())
    assert [f"{f.rule} {f.line}:{f.column}" for f in report.findings] == EXPECTED[name]


def test_clean_eks_configmap_has_no_findings() -> None:
    report = lint_text("clean.yaml", (CORPUS / "clean_eks_generated.yaml").read_text(), LintConfig())
    assert report.findings == []
    assert report.suppressed == []


def test_suppressions_are_counted() -> None:
    report = lint_text("s.yaml", (CORPUS / "36_multi_doc_suppressed.yaml").read_text(), LintConfig())
    assert [f.rule for f in report.suppressed] == ["AA701", "AA701"]
    assert report.suppressed[0].suppressed_by == "break-glass role, reviewed 2026-10"
    assert [f.rule for f in report.findings] == ["AA900"]


def _aws_auth_targets(name: str) -> list[Target]:
    text = (CORPUS / name).read_text(encoding="utf-8")
    return [t for t in load_targets(name, text) if t.kind == "configmap" and t.name == "aws-auth"]


CONFIGMAPS = [n for n in FILES if _aws_auth_targets(n)]


def test_most_of_the_corpus_is_configmaps() -> None:
    assert len(CONFIGMAPS) >= 25


@pytest.mark.parametrize("name", CONFIGMAPS)
def test_linter_sees_what_the_server_sees(name: str) -> None:
    """Section by section, the linter's view equals parse_aws_auth on the manifest's data."""
    text = (CORPUS / name).read_text(encoding="utf-8")
    targets = _aws_auth_targets(name)
    server = parse_aws_auth(load_configmap_manifest(text))
    mine = {section_name: section.result for section_name, section in targets[0].sections.items()}
    for section_name, section in server.sections.items():
        if not section.present:
            assert section_name not in mine
            continue
        assert mine[section_name].error == section.error
        assert [e.mapping for e in mine[section_name].entries] == [e.mapping for e in section.entries]
        assert [e.issues for e in mine[section_name].entries] == [e.issues for e in section.entries]
        assert mine[section_name].accounts == section.accounts


def test_server_config_errors_that_stop_the_server_say_so() -> None:
    from authenticator.mapping.server_mappings import MappingConfigError, parse_server_mappings

    text = (CORPUS / "33_server_config.yaml").read_text()
    server = yaml.safe_load(text)["server"]
    with pytest.raises(MappingConfigError, match=r"server\.mapUsers\[0\]"):
        parse_server_mappings(server["mapRoles"], server["mapUsers"], server["mapAccounts"])
    report = lint_text("c.yaml", text, LintConfig())
    stopping = [f.rule for f in report.findings if "stops the server from starting" in f.message]
    assert stopping == ["AA401"]
