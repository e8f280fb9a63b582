"""``aws-auth migrate``: plan, write, apply and verify the move from aws-auth to EKS access entries.

The edges of the command: the aws-auth input (as ``aws-auth lint`` reads it: a manifest, ``-``
or ``--live``), the cluster (``--cluster`` through botocore, or ``--entries FILE`` offline), IAM
(``--resolve-paths``), the output file and the confirmation prompt. The plan itself is pure
(:mod:`authenticator.migrate.plan`).

Exit: 0 every row is create/exists/skip-managed; 1 any row is manual/conflict/blocked, an
``--apply`` call failed or conflicted, or ``--verify`` finds a principal that would lose
access; 2 usage or input errors (raised as :class:`MigrateError`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from authenticator.console import PLAIN, add_color_flag, palette_for
from authenticator.errors import UserError
from authenticator.mapping.model import SSOMatcher
from authenticator.migrate.formats import FORMATS, render_plan
from authenticator.migrate.plan import ClusterFacts, Plan, build_plan
from authenticator.migrate.source import AwsAuthEntries, read_aws_auth
from authenticator.words import counted

__all__ = ["HELP", "MigrateError", "add_arguments", "run_migrate"]


class MigrateError(UserError):
    """Bad flags, unreadable input, or the cluster/IAM cannot be read: exit 2."""


HELP = "plan, write, apply and verify the move from aws-auth to EKS access entries"


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``migrate``'s flags, on the parser ``aws-auth`` made for it (help: HELP)."""
    p.add_argument("path", nargs="?", metavar="PATH", help="aws-auth ConfigMap manifest, or - for stdin")
    p.add_argument("--live", action="store_true", help="read kube-system/aws-auth from the cluster (kubeconfig)")
    p.add_argument("--kubeconfig", help="kubeconfig for --live (default: $KUBECONFIG or ~/.kube/config)")
    p.add_argument("--context", help="kubeconfig context for --live")
    p.add_argument("--cluster", metavar="NAME", help="read the EKS cluster's access entries and node roles (botocore)")
    p.add_argument("--region", help="AWS region of the cluster")
    p.add_argument("--profile", help="AWS profile")
    p.add_argument("--entries", metavar="FILE", help="existing access entries, offline (JSON list of accessEntry)")
    p.add_argument("--resolve-paths", action="store_true", help="ask IAM for role paths and the roles of sso entries")
    p.add_argument("-f", "--format", choices=FORMATS, default="table", help="output format (default table)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the output to FILE instead of stdout")
    add_color_flag(p)
    p.add_argument("--apply", action="store_true", help="create the 'create' rows on the cluster (needs --cluster)")
    p.add_argument("--yes", action="store_true", help="do not ask before --apply")
    p.add_argument(
        "--verify", action="store_true", help="compare what each principal gets today and from access entries"
    )
    return p


def _text(args: argparse.Namespace, stdin: TextIO) -> tuple[str, str]:
    """(path, text) of the aws-auth input, read as ``aws-auth lint`` reads it."""
    from authenticator.lint.cli import LIVE_PATH, _read
    from authenticator.lint.live import LiveError, fetch_live_manifest

    if args.live and args.path:
        raise MigrateError("give a PATH or --live, not both")
    if args.live:
        # Not lint's _live_text: its message already carries lint's own "aws-auth: error:" prefix.
        try:
            return LIVE_PATH, fetch_live_manifest(kubeconfig=args.kubeconfig, context=args.context)
        except LiveError as err:
            raise MigrateError(f"--live: {err}") from None
    if not args.path:
        raise MigrateError("give a PATH, - for stdin, or --live")
    if args.path != "-" and Path(args.path).is_dir():
        raise MigrateError(f"{args.path}: is a directory")
    if args.path != "-" and not Path(args.path).is_file():
        raise MigrateError(f"{args.path}: no such file")
    text = _read(args.path, stdin)
    if text is None:
        raise MigrateError(f"{args.path}: not UTF-8 text")
    return args.path, text


def _cluster(args: argparse.Namespace) -> tuple[ClusterFacts | None, Any]:
    """(what is known of the cluster, the EKS client or None). AWS errors arrive as one-line
    ``UserError``s (:func:`authenticator.migrate.cluster.aws_errors`)."""
    facts: ClusterFacts | None = None
    eks = None
    if args.cluster:
        from authenticator.migrate.cluster import eks_client, read_cluster

        eks = eks_client(args.region, args.profile)
        facts = ClusterFacts.of(read_cluster(eks, args.cluster))
    if args.entries:
        from authenticator.migrate.cluster import load_entries

        entries = tuple(load_entries(args.entries))
        facts = replace(facts, entries=entries) if facts is not None else ClusterFacts(entries=entries)
    return facts, eks


def _iam(
    args: argparse.Namespace,
) -> tuple[Callable[[str], str | None] | None, Callable[[SSOMatcher], Sequence[str]] | None]:
    """The IAM look-ups for the planner (None without --resolve-paths); their AWS errors are
    already one-line ``UserError``s (:mod:`authenticator.migrate.iam`)."""
    if not args.resolve_paths:
        return None, None
    from authenticator.migrate.iam import iam_client, resolve_role_arn, sso_role_arns

    iam = iam_client(args.region, args.profile)

    def sso(matcher: SSOMatcher) -> Sequence[str]:
        return sso_role_arns(iam, matcher.permission_set_name, account=matcher.account_id, partition=matcher.partition)

    return partial(resolve_role_arn, iam), sso


def _check_output(args: argparse.Namespace) -> None:
    """-o must not name the aws-auth manifest read: the command never edits aws-auth."""
    if not args.output or args.live or args.path in (None, "-"):
        return
    try:
        same = Path(args.output).exists() and Path(args.output).samefile(args.path)
    except OSError:
        return
    if same:
        raise MigrateError(f"-o {args.output} is the aws-auth input: write the output elsewhere")


def _write(args: argparse.Namespace, text: str, stdout: TextIO) -> None:
    if not args.output:
        stdout.write(text)
        return
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as err:
        raise MigrateError(f"{args.output}: {err.strerror or err}") from None


def _confirm(args: argparse.Namespace, plan: Plan, stdin: TextIO, stderr: TextIO) -> bool:
    creates = sum(1 for r in plan.rows if r.action == "create")
    if args.yes:
        return True
    if not stdin.isatty():
        raise MigrateError("--apply without a terminal needs --yes")
    stderr.write(f"create {counted(creates, 'access entry', 'access entries')} on cluster {args.cluster}? [y/N] ")
    stderr.flush()
    return stdin.readline().strip().lower() in ("y", "yes")


def _apply(args: argparse.Namespace, eks: Any, plan: Plan, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    from authenticator.migrate.apply import apply_plan
    from authenticator.migrate.cluster import aws_errors

    if plan.authentication_mode == "CONFIG_MAP":
        raise MigrateError(
            f"cluster {args.cluster} is in the CONFIG_MAP authentication mode: access entries need "
            "API_AND_CONFIG_MAP, a change this command never makes (aws eks update-cluster-config "
            "--access-config authenticationMode=API_AND_CONFIG_MAP)"
        )
    # Progress shares stdout only with a table plan; JSON and generated files stay parseable.
    out = stdout if args.format == "table" and not args.output and not args.verify else stderr

    def say(line: str) -> None:
        out.write(line + "\n")

    if not any(r.action == "create" for r in plan.rows):
        say("apply: nothing to create")
        return 0
    if not _confirm(args, plan, stdin, stderr):
        stderr.write("apply: cancelled\n")
        return 1

    with aws_errors("EKS"):  # apply_plan reports ClientErrors per row; this catches the rest
        outcome = apply_plan(eks, args.cluster, plan, say)
    say(
        f"apply: {outcome.created} created, {outcome.exists} already there, "
        f"{counted(outcome.associated, 'policy', 'policies')} associated, "
        f"{counted(len(outcome.conflicts), 'conflict')}, {counted(len(outcome.failures), 'failure')}"
    )
    return 0 if outcome.ok else 1


def _verify(
    args: argparse.Namespace, aws_auth: AwsAuthEntries, plan: Plan, facts: ClusterFacts | None
) -> tuple[str, int]:
    from authenticator.migrate.verify import compare, render_verify

    if facts is None:
        raise MigrateError("--verify needs the access entries: give --cluster or --entries")
    comparisons = compare(aws_auth, plan, facts.entries)
    fmt = "json" if args.format == "json" else "table"
    return render_verify(comparisons, fmt), 1 if any(c.loses_access for c in comparisons) else 0


def run_migrate(
    args: argparse.Namespace, stdin: TextIO | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    if args.apply and not args.cluster:
        raise MigrateError("--apply needs --cluster NAME")
    if args.yes and not args.apply:
        raise MigrateError("--yes goes with --apply")
    if args.cluster and args.entries:
        raise MigrateError("--cluster reads the access entries: --entries is for offline plans")
    path, text = _text(args, stdin)
    _check_output(args)
    aws_auth = read_aws_auth(path, text)
    facts, eks = _cluster(args)
    resolve, sso = _iam(args)
    plan = build_plan(aws_auth, facts, resolve_role=resolve, sso_roles=sso)
    code = plan.exit_code
    if args.verify and not args.apply:
        report, verify_code = _verify(args, aws_auth, plan, facts)
        _write(args, report, stdout)
        return max(code, verify_code)
    if not args.verify:
        palette = palette_for(stdout, args.color) if not args.output else PLAIN
        _write(args, render_plan(plan, args.format, region=args.region, palette=palette), stdout)
    if args.apply:
        code = max(code, _apply(args, eks, plan, stdin, stdout, stderr))
        if args.verify:
            from authenticator.migrate.cluster import read_entries

            # The entries as they are now; the node roles and the mode did not change.
            facts = replace(facts, entries=read_entries(eks, args.cluster)) if facts is not None else None
            report, verify_code = _verify(args, aws_auth, plan, facts)
            _write(args, report, stdout)
            code = max(code, verify_code)
    return code
