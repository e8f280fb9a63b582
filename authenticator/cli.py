"""The ``eks-iam-authenticator`` command line.

Every subcommand's handler is imported only when that subcommand runs, so
``token`` never pays for the server's imports (FastAPI, httpx, kubernetes).
Handlers take the parsed namespace and return the exit code; an expected
failure is one line on stderr and exit 1 (cli.md).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence

from authenticator import __version__

PROG = "eks-iam-authenticator"

# subcommand -> "module:function"; imported lazily.
_HANDLERS = {
    "token": "client_plugin.cli:run",
    "server": "authenticator.server.commands:run_server",
    "init": "authenticator.server.commands:run_init",
    "verify": "authenticator.server.commands:run_verify",
    "demo": "authenticator.demo.runner:run",
    "add": "authenticator.mapping.sources.edit:run_add",
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one line and exit 1."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(1)


def _add_global_flags(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # On subcommands the defaults are suppressed so that a global flag given
    # before the subcommand is not overwritten by the subcommand's default.
    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    parser.add_argument(
        "-i",
        "--cluster-id",
        default=default(os.environ.get("KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID")),
        help="cluster id (env KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID)",
    )
    parser.add_argument("-c", "--config", default=default(None), metavar="FILE", help="configuration file")
    parser.add_argument("-l", "--log-format", choices=("text", "json"), default=default("text"), help="log format")
    parser.add_argument(
        "-v", "--log-verbosity", default=default("info"), metavar="LEVEL", help="log level: debug, info, warning, error"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Amazon EKS-style IAM authentication for Kubernetes.")
    _add_global_flags(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        _add_global_flags(p, top=False)
        return p

    token = command("token", "print an ExecCredential with a token for kubectl")
    token.add_argument("--region", help="AWS region of the STS endpoint")
    token.add_argument("--profile", help="AWS profile to sign with")
    token.add_argument(
        "-r", "--role", default=os.environ.get("DEFAULT_ROLE") or None, help="role ARN to assume (env DEFAULT_ROLE)"
    )
    token.add_argument("-e", "--external-id", help="external id for --role")
    token.add_argument("-s", "--session-name", help="session name for --role")
    token.add_argument(
        "--forward-session-name",
        action="store_true",
        help="use the caller's own session name as the session name of --role",
    )
    token.add_argument("--token-only", action="store_true", help="print only the token")
    token.add_argument("--cache", action="store_true", help="cache tokens and assumed-role credentials")

    server = command("server", "serve the TokenReview webhook over TLS")
    server.add_argument("--address", help="address to listen on (127.0.0.1)")
    server.add_argument("--port", type=int, help="port to listen on (21362)")
    server.add_argument("--hostname", help="hostname in the certificate and webhook kubeconfig (localhost)")
    server.add_argument("--state-dir", help="directory for cert.pem and key.pem")
    server.add_argument("--generate-kubeconfig", metavar="PATH", help="where to write the webhook kubeconfig")
    server.add_argument(
        "--kubeconfig-pregenerated",
        action="store_true",
        default=None,
        help="the webhook kubeconfig was written by init; do not write it",
    )
    server.add_argument("--backend-mode", metavar="LIST", help="ordered, comma-separated mapping sources")
    server.add_argument("--partition", help="AWS partition of the tokens to accept (aws)")
    server.add_argument("--kubeconfig", help="kubeconfig for the cluster sources")
    server.add_argument("--master", help="API server URL for the cluster sources")

    init = command("init", "write the TLS certificate, key and webhook kubeconfig")
    init.add_argument("--hostname", default="localhost")
    init.add_argument("--address", default="127.0.0.1")
    init.add_argument("--port", type=int, default=21362)
    init.add_argument("--state-dir", default=".")

    verify = command("verify", "verify one token against STS and print the identity")
    verify.add_argument("-t", "--token", required=True)
    verify.add_argument("--partition", default="aws")
    verify.add_argument("-o", "--output", choices=("json",))

    version = command("version", "print the version")
    version.add_argument("-o", "--output", choices=("json",))

    command("demo", "run the whole flow on this machine, without AWS")

    # As the reference's `add`; defined here, not by edit.add_arguments, because importing the
    # edit module means importing the kubernetes client for every command line parsed.
    add = command("add", "add an entry to the kube-system/aws-auth ConfigMap")
    kinds = add.add_subparsers(dest="add_kind", metavar="role|user", required=True, parser_class=_Parser)
    for kind in ("role", "user"):
        p = kinds.add_parser(kind, help=f"map an IAM {kind} in kube-system/aws-auth")
        p.add_argument(f"--{kind}arn", required=True, help=f"IAM {kind} ARN")
        p.add_argument("--username", required=True, help="Kubernetes username (may use {{...}} placeholders)")
        p.add_argument("--groups", action="append", default=[], help="Kubernetes groups (comma-separated, repeatable)")
        p.add_argument("--kubeconfig", help="kubeconfig of the cluster (default: in-cluster)")
        p.add_argument("--master", "--master-url", dest="master", help="API server URL (overrides the kubeconfig's)")
        # The reference asks before writing unless --prompt=false; this command never asks.
        p.add_argument("--prompt", nargs="?", const="true", metavar="BOOL", help="accepted and ignored: never prompts")
    return parser


def _load(target: str) -> Callable[[argparse.Namespace], int]:
    module, _, func = target.partition(":")
    return getattr(importlib.import_module(module), func)


def _version(args: argparse.Namespace) -> int:
    if args.output == "json":
        sys.stdout.write(json.dumps({"Version": __version__}) + "\n")
    else:
        sys.stdout.write(f"{PROG} {__version__}\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 1
    handler = _version if args.command == "version" else _load(_HANDLERS[args.command])
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
