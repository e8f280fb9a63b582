"""Output formats: SARIF 2.1.0 structure and stable fingerprints, GitHub workflow commands, JSON schema."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from authenticator import __version__
from authenticator.lint.config import LintConfig
from authenticator.lint.engine import FileReport, lint_text
from authenticator.lint.formats import render
from authenticator.lint.formats.github import escape_data, escape_property
from authenticator.lint.formats.jsonfmt import SCHEMA_PATH
from authenticator.lint.registry import all_rules

CORPUS = Path(__file__).parent / "corpus"


def _reports(*names: str) -> list[FileReport]:
    return [lint_text(f"corpus/{n}", (CORPUS / n).read_text(encoding="utf-8"), LintConfig()) for n in names]


# -- a small JSON Schema checker (the keywords findings.schema.json uses), so no dependency is needed


def _validate(value: object, schema: dict[str, Any], root: dict[str, Any], where: str = "$") -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return _validate(value, root["$defs"][name], root, where)
    errors: list[str] = []
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        checks = {
            "object": lambda v: isinstance(v, dict),
            "array": lambda v: isinstance(v, list),
            "string": lambda v: isinstance(v, str),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool),
            "null": lambda v: v is None,
        }
        if not any(checks[k](value) for k in kinds):
            return [f"{where}: {value!r} is not {kinds}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: {value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} not in {schema['enum']}")
    if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
        errors.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if "minimum" in schema and isinstance(value, int) and value < schema["minimum"]:
        errors.append(f"{where}: {value} < {schema['minimum']}")
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            if key not in value:
                errors.append(f"{where}: missing {key}")
        props = schema.get("properties", {})
        for key, item in value.items():
            if key in props:
                errors += _validate(item, props[key], root, f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{where}: unexpected {key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += _validate(item, schema["items"], root, f"{where}[{i}]")
    return errors


def test_json_matches_its_schema() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    doc = json.loads(render("json", _reports("33_server_config.yaml", "36_multi_doc_suppressed.yaml")))
    assert _validate(doc, schema, schema) == []
    assert doc["summary"]["suppressed"] == 2
    first = doc["findings"][0]
    assert (first["rule"], first["line"], first["section"], first["entry_index"]) == ("AA102", 6, "server.mapRoles", 0)
    # and the checker itself catches a broken document
    doc["findings"][0]["line"] = 0
    del doc["summary"]["errors"]
    assert len(_validate(doc, schema, schema)) == 2


def test_sarif_structure() -> None:
    doc = json.loads(render("sarif", _reports("01_role_arn_with_path.yaml", "36_multi_doc_suppressed.yaml")))
    assert doc["version"] == "2.1.0"
    assert doc["$schema"].endswith("sarif-2.1.0.json")
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "aws-auth-lint"
    assert driver["version"] == __version__
    rules = driver["rules"]
    # Only the rules that occur, in catalogue order.
    occurring = {r["ruleId"] for r in run["results"]}
    assert [r["id"] for r in rules] == [r.id for r in all_rules() if r.id in occurring]
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["help"]["text"] and rule["fullDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
        assert "Failing example" in rule["help"]["text"]
    levels = {"error", "warning", "note", "none"}
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in levels
        assert result["message"]["text"]
        (location,) = result["locations"]
        region = location["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert location["physicalLocation"]["artifactLocation"]["uri"].startswith("corpus/")
        assert re.fullmatch(r"[0-9a-f]{32}", result["partialFingerprints"]["awsAuthLint/v1"])
    path_result = next(r for r in run["results"] if r["ruleId"] == "AA202")
    assert path_result["locations"][0]["physicalLocation"]["region"] == {"startLine": 13, "startColumn": 16}
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert [s["suppressions"][0]["kind"] for s in suppressed] == ["inSource", "inSource"]


def _fingerprints(text: str) -> dict[tuple[str, str | None], str]:
    report = lint_text("f.yaml", text, LintConfig())
    return {(f.rule, f.arn): f.fingerprint for f in report.findings}


def test_fingerprints_are_stable_across_runs_and_unrelated_edits() -> None:
    text = (CORPUS / "33_server_config.yaml").read_text()
    first = _fingerprints(text)
    assert first == _fingerprints(text)
    assert len(set(first.values())) == len(first)
    # Lines added above move every finding but change no fingerprint.
    shifted = _fingerprints("# managed by platform team\n# do not edit by hand\n" + text)
    assert shifted == first


def test_github_workflow_commands(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    out = render(
        "github",
        _reports("04_system_master_typo.yaml", "21_missing_username.yaml"),
        environ={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    lines = out.strip().split("\n")
    command = re.compile(r"^::(error|warning|notice) file=[^,:]+,line=\d+,col=\d+,title=AA\d{3} [a-z-]+::[^\n]+$")
    assert lines and all(command.match(line) for line in lines), lines
    assert lines[0].startswith("::error file=corpus/04_system_master_typo.yaml,line=16,col=11,title=AA402 group-typo::")
    assert lines[1].startswith("::warning file=corpus/21_missing_username.yaml,line=13,col=7,")
    assert "%0Afix: " in lines[0]
    text = summary.read_text()
    assert text.startswith("## aws-auth lint")
    assert "| `corpus/04_system_master_typo.yaml:16:11` | AA402 group-typo | error |" in text


def test_github_escaping() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c") == "a%3Ab%2Cc"


def test_text_format() -> None:
    out = render("text", _reports("01_role_arn_with_path.yaml"))
    first, hint, summary = out.strip().split("\n")
    assert first.startswith("corpus/01_role_arn_with_path.yaml:13:16: AA202 error role-arn-has-path: ")
    assert hint == (
        "    fix: use arn:aws:iam::739275461218:role/platform-admin if that is the role meant"
        " (not applied by --fix: the entry would start to match)"
    )
    assert summary.startswith("1 finding (1 error) in 1 file")
