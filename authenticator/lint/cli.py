"""The ``aws-auth`` command: ``lint``, ``rule``, ``rules``, ``resolve`` and ``migrate``.

Exit codes (docs/lint.md, the ruff / hadolint convention): 0 nothing at or above ``--fail-on``;
1 findings at or above it (``resolve``: the identity is denied); 2 usage, configuration or
I/O error. A file that does not parse is a finding (AA001), not exit 2.
"""

from __future__ import annotations

import argparse
import difflib
import gc
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from authenticator import __version__
from authenticator.console import Palette, add_color_flag, palette_for
from authenticator.errors import UserError
from authenticator.lint.config import FAIL_ON, ConfigError, LintConfig, discover_config, load_config
from authenticator.lint.engine import FileReport, exit_code, fix_report, lint_text
from authenticator.lint.findings import Finding
from authenticator.lint.formats import FORMATS, render
from authenticator.lint.registry import all_rules, get_rule

__all__ = ["build_parser", "main"]

PROG = "aws-auth"
LINT_SUFFIXES = (".yaml", ".yml", ".json")
LIVE_PATH = "kube-system/aws-auth"


class UsageError(UserError):
    """Bad flags, unreadable input or config: exit 2 with one line on stderr."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message}")


def _id_list(values: list[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for value in values or ():
        out.extend(v.strip().upper() for v in value.split(",") if v.strip())
    return tuple(out)


# Each subcommand's help ends with examples (argparse prints the epilog as written).
_EXAMPLES = {
    PROG: """examples:
  aws-auth lint k8s/aws-auth.yaml
  aws-auth resolve --arn arn:aws:iam::111122223333:role/admin k8s/aws-auth.yaml""",
    "lint": """examples:
  aws-auth lint k8s/                         # every .yaml/.yml/.json file under k8s/
  kubectl get cm -n kube-system aws-auth -o yaml | aws-auth lint --format sarif - > aws-auth.sarif""",
    "rule": """examples:
  aws-auth rule AA202
  aws-auth rule role-arn-has-path""",
    "rules": """examples:
  aws-auth rules
  aws-auth rules --format json""",
    "resolve": """examples:
  aws-auth resolve --arn arn:aws:sts::111122223333:assumed-role/admin/alice k8s/aws-auth.yaml
  aws-auth resolve --arn arn:aws:iam::111122223333:role/nodes --session-name i-0abc server.yaml""",
    "migrate": """examples:
  aws-auth migrate k8s/aws-auth.yaml --cluster prod --resolve-paths -f terraform -o access-entries.tf
  aws-auth migrate --live --cluster prod --apply --verify""",
    "completion": """examples:
  aws-auth completion bash > ~/.local/share/bash-completion/completions/aws-auth
  aws-auth completion zsh > ~/.zfunc/_aws-auth     # with fpath+=(~/.zfunc) in ~/.zshrc""",
}


def _subcommand(sub: argparse._SubParsersAction[_Parser], name: str, help: str) -> _Parser:
    parser: _Parser = sub.add_parser(
        name,
        help=help,
        description=help[:1].upper() + help[1:] + ".",
        epilog=_EXAMPLES.get(name),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="pyproject.toml or .aws-auth-lint.yaml (default: discovered)")
    parser.add_argument("--no-config", action="store_true", help="ignore configuration files")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Check and explain the aws-auth ConfigMap as the authenticator reads it.",
        epilog=_EXAMPLES[PROG],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}", help="print the version")
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_Parser, help="what to do (COMMAND --help: its own help)"
    )
    sub.required = True

    lint = _subcommand(sub, "lint", "lint aws-auth ConfigMaps, server config files or DynamicFile JSON")
    lint.add_argument("paths", nargs="*", metavar="PATH", help="files, directories, or - for stdin")
    lint.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")
    lint.add_argument("--fail-on", choices=FAIL_ON, default=None, help="lowest severity that fails (default error)")
    lint.add_argument("--select", action="append", metavar="IDS", help="only these rule ids or prefixes (AA2,AA701)")
    lint.add_argument("--ignore", action="append", metavar="IDS", help="skip these rule ids or prefixes")
    _add_config_flags(lint)
    lint.add_argument("--fix", action="store_true", help="apply the safe fixes in place (stdin: print the result)")
    lint.add_argument("--diff", action="store_true", help="print the safe fixes as a unified diff; write nothing")
    lint.add_argument("--show-suppressed", action="store_true", help="also list suppressed findings (text format)")
    lint.add_argument(
        "--allow-empty",
        action="store_true",
        help="exit 0 when the paths hold no aws-auth object (default: exit 2; for hooks that pass every file)",
    )
    lint.add_argument("--live", action="store_true", help=f"lint {LIVE_PATH} from the cluster (current kubeconfig)")
    lint.add_argument(
        "--kubeconfig", metavar="FILE", help="kubeconfig for --live (default: $KUBECONFIG or ~/.kube/config)"
    )
    lint.add_argument("--context", help="kubeconfig context for --live")
    add_color_flag(lint)

    rule = _subcommand(sub, "rule", "explain one rule")
    rule.add_argument("rule_id", metavar="ID", help="rule id (AA202) or slug (role-arn-has-path)")
    _add_config_flags(rule)
    add_color_flag(rule)

    rules = _subcommand(sub, "rules", "list all rules")
    rules.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    _add_config_flags(rules)

    resolve = _subcommand(sub, "resolve", "show which entry maps an identity, with the server's mapping code")
    resolve.add_argument("--arn", required=True, help="user, role or assumed-role (session) ARN")
    resolve.add_argument("--session-name", help="session name (for a role ARN, or to override the ARN's)")
    resolve.add_argument("--access-key-id", help="access key id, for {{AccessKeyID}}")
    resolve.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    add_color_flag(resolve)
    resolve.add_argument("path", metavar="PATH", help="aws-auth ConfigMap, server config or DynamicFile JSON")
    from authenticator.migrate.access import add_resolve_options

    add_resolve_options(resolve)

    from authenticator.migrate import cli as migrate

    migrate.add_arguments(_subcommand(sub, "migrate", migrate.HELP))

    completion = _subcommand(sub, "completion", "print the shell completion script of aws-auth")
    from authenticator.completion import add_shell_argument

    add_shell_argument(completion)
    return parser


# ---------------------------------------------------------------------------------------------
# lint


def _expand(paths: Sequence[str]) -> Iterator[str]:
    for path in paths:
        if path == "-":
            yield path
            continue
        p = Path(path)
        if p.is_dir():
            for child in sorted(p.rglob("*")):
                if (
                    child.is_file()
                    and child.suffix in LINT_SUFFIXES
                    and not any(part.startswith(".") for part in child.relative_to(p).parts)
                ):
                    yield str(child)
        elif p.exists():
            yield path
        else:
            raise UsageError(f"{PROG}: error: {path}: no such file or directory")


def _read(path: str, stdin: TextIO) -> str | None:
    """The text of ``path``; None when it is not text (reported as AA001)."""
    try:
        raw = stdin.buffer.read() if path == "-" and hasattr(stdin, "buffer") else None
        if path == "-" and raw is None:
            return stdin.read()
        if raw is None:
            raw = Path(path).read_bytes()
    except OSError as err:
        raise UsageError(f"{PROG}: error: {path}: {err.strerror or err}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _not_text(path: str) -> FileReport:
    rule = get_rule("AA001")
    assert rule is not None
    finding = Finding(
        rule.id, rule.slug, rule.severity, "the file is not UTF-8 text", path, 1, 1, fix_hint="save it as UTF-8"
    )
    return FileReport(path, [finding], [], [])


def _live_text(kubeconfig: str | None, context: str | None) -> str:
    from authenticator.lint.live import LiveError, fetch_live_manifest

    try:
        return fetch_live_manifest(kubeconfig=kubeconfig, context=context)
    except LiveError as err:
        raise UsageError(f"{PROG}: error: --live: {err}") from None


def _config(args: argparse.Namespace) -> LintConfig:
    if args.no_config:
        config = LintConfig()
    elif args.config:
        config = load_config(args.config)
    else:
        config = discover_config()
    if getattr(args, "select", None):
        config.select = _id_list(args.select)
    if getattr(args, "ignore", None):
        config.ignore = config.ignore + _id_list(args.ignore)
    if getattr(args, "fail_on", None):
        config.fail_on = args.fail_on
    return config


def _lint(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    if args.fix and args.diff:
        raise UsageError(f"{PROG}: error: --fix and --diff are exclusive")
    if not args.paths and not args.live:
        raise UsageError(f"{PROG}: error: give a PATH, - for stdin, or --live")
    config = _config(args)
    inputs: list[tuple[str, str | None]] = [(p, _read(p, stdin)) for p in _expand(args.paths)]
    if args.live:
        inputs.append((LIVE_PATH, _live_text(args.kubeconfig, args.context)))
    to_stdin = args.fix and any(p == "-" for p, _ in inputs)
    out = stderr if to_stdin else stdout
    palette = palette_for(out, args.color)
    reports: list[FileReport] = []
    diffs: list[str] = []
    for path, text in inputs:
        if text is None:
            reports.append(_not_text(path))
            continue
        if args.fix or args.diff:
            outcome = fix_report(path, text, config)
            fixed = outcome.text
            if fixed != text:
                if args.diff:
                    diffs.extend(
                        difflib.unified_diff(
                            text.splitlines(keepends=True), fixed.splitlines(keepends=True), path, path
                        )
                    )
                elif path == "-":
                    stdout.write(fixed)
                elif path != LIVE_PATH:
                    Path(path).write_text(fixed, encoding="utf-8")
                if args.fix:
                    _say_fixed(outcome.resolved, stderr, palette_for(stderr, args.color), live=path == LIVE_PATH)
            elif args.fix and path == "-":
                stdout.write(text)
            # fix_report has linted both texts: lint's report is on the fixed one with --fix
            reports.append(outcome.after if args.fix else outcome.before)
            continue
        reports.append(lint_text(path, text, config))
    if not args.allow_empty and not any(r.targets or r.findings for r in reports):
        named = ["stdin" if p == "-" else p for p in args.paths] + ([LIVE_PATH] if args.live else [])
        where = ", ".join(named[:3]) + (f" and {len(named) - 3} more" if len(named) > 3 else "")
        raise UsageError(
            f"{PROG}: error: no aws-auth ConfigMap, server config or DynamicFile mappings in {where}"
            " (pass --allow-empty to accept that)"
        )
    code = exit_code((f for r in reports for f in r.findings), config.fail_on)
    if args.diff:
        # The diff is the output; the exit code is lint's for the same (unfixed) files.
        stdout.write("".join(diffs))
        return code
    out.write(render(args.format, reports, show_suppressed=args.show_suppressed, palette=palette))
    return code


def _say_fixed(fixed: list[Finding], stderr: TextIO, palette: Palette, *, live: bool) -> None:
    """One line on stderr per fix --fix applied (stdout may hold the fixed text or a report)."""
    verb = "would fix (--live writes nothing)" if live else "fixed"
    for finding in fixed:
        where = palette.bold(f"{finding.path}:{finding.line}:{finding.column}:")
        stderr.write(f"{where} {palette.good(verb)} {finding.rule} {finding.slug}: {finding.message}\n")


# ---------------------------------------------------------------------------------------------
# rule / rules


def _rule(args: argparse.Namespace, stdout: TextIO) -> int:
    from authenticator.lint.docs import terminal_text

    rule = get_rule(args.rule_id)
    if rule is None:
        raise UsageError(f"{PROG}: error: unknown rule {args.rule_id!r} (see `aws-auth rules`)")
    override = _config(args).severity.get(rule.id)
    severity = rule.severity_text(override) if override is not None else None
    stdout.write(terminal_text(rule, severity=severity, palette=palette_for(stdout, args.color)))
    return 0


def _rules(args: argparse.Namespace, stdout: TextIO) -> int:
    rules = all_rules()
    # The severities lint reports: a configured override applies to every finding of its rule.
    overrides = _config(args).severity
    severities = {r.id: [s.label for s in ((overrides[r.id],) if r.id in overrides else r.severities)] for r in rules}
    if args.format == "json":
        import json

        stdout.write(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "slug": r.slug,
                        "severity": severities[r.id][0],
                        "severities": severities[r.id],
                        "fixable": r.fixable,
                        "summary": r.summary,
                    }
                    for r in rules
                ],
                indent=2,
            )
            + "\n"
        )
        return 0
    width = max(len(r.slug) for r in rules)
    labels = {rule_id: "/".join(names) for rule_id, names in severities.items()}
    label_width = max(len(label) for label in labels.values())
    for r in rules:
        mark = "*" if r.fixable else " "
        stdout.write(f"{r.id} {r.slug:<{width}} {labels[r.id]:<{label_width}} {mark} {r.summary}\n")
    stdout.write("(* fixable with --fix; a/b: severity a, b for some findings (aws-auth rule ID says when))\n")
    return 0


# ---------------------------------------------------------------------------------------------


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    if argv is None:
        # A short-lived process that builds one big acyclic tree: the cyclic collector would
        # spend as long as the linting itself scanning it (engine.lint_text says more).
        gc.disable()
    try:
        args = build_parser().parse_args(list(argv) if argv is not None else None)
        if args.command == "lint":
            code = _lint(args, stdin, stdout, stderr)
            if argv is None:
                # As mypy does: skip tearing down a million objects one by one at exit (~15% of a
                # large lint). Everything we wrote is flushed first; nothing else is pending.
                stdout.flush()
                stderr.flush()
                os._exit(code)
            return code
        if args.command == "rule":
            return _rule(args, stdout)
        if args.command == "rules":
            return _rules(args, stdout)
        if args.command == "migrate":
            from authenticator.migrate.cli import run_migrate

            try:
                code = run_migrate(args, stdin, stdout, stderr)
            except UserError as err:
                raise UsageError(f"{PROG} migrate: error: {err}") from None
            if argv is None:  # as for lint: skip tearing down the parsed tree at exit
                stdout.flush()
                stderr.flush()
                os._exit(code)
            return code
        if args.command == "completion":
            from authenticator.completion import completion_script

            stdout.write(completion_script(build_parser(), args.shell))
            return 0
        from authenticator.lint.resolve import ResolveError, run_resolve

        try:
            return run_resolve(args, stdout, palette=palette_for(stdout, args.color))
        except ResolveError as err:
            raise UsageError(f"{PROG}: error: {err}") from None
    except UsageError as err:
        stderr.write(f"{err}\n")
        return 2
    except ConfigError as err:
        stderr.write(f"{PROG}: config error: {err}\n")
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
