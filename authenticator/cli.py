"""The ``eks-iam-authenticator`` binary: its one entry point and its one dispatch table.

``main`` reads the command line, then runs the subcommand's handler from ``_HANDLERS``.
A plain ``token`` command line — what kubectl runs before every command — is read by
client_plugin.flags without argparse; anything else goes to the argparse parser, which
is built from the same flag table. Both give the handler the same namespace.

The handlers are named as "module:function" strings and imported only when their
subcommand runs: ``token`` must not pay for the server's imports (FastAPI, httpx,
kubernetes), and a ``token --cache`` hit imports only the standard library (this module
keeps argparse and json off that path too). Handlers take the parsed namespace and return
the exit code; an expected failure is one line on stderr and exit 1 (docs/cli.md).
"""

from __future__ import annotations

import os
import sys

from authenticator import __version__
from client_plugin.flags import FLAGS, GLOBAL, TOKEN, TOKEN_EXAMPLES, parse_token_argv

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Mapping, Sequence
    from types import SimpleNamespace
    from typing import NoReturn

    # What a handler gets: argparse's namespace, or the fast path's of the same attributes.
    Args = argparse.Namespace | SimpleNamespace

__all__ = ["PROG", "build_parser", "main"]

PROG = "eks-iam-authenticator"

# subcommand -> "module:function" of its handler, imported by _load when the subcommand runs.
_HANDLERS = {
    "token": "client_plugin.cli:run",
    "server": "authenticator.server.commands:run_server",
    "init": "authenticator.server.commands:run_init",
    "verify": "authenticator.server.commands:run_verify",
    "demo": "authenticator.demo.runner:run",
    "add": "authenticator.mapping.sources.edit:run_add",
    "remove": "authenticator.mapping.sources.edit:run_remove",
    "completion": "authenticator.completion:run",
}


def _examples() -> dict[str, str]:
    """What each subcommand's help ends with: one or two command lines that work as written.
    (token's are in client_plugin.flags, beside its flag table.) Built with the parser only, off
    the token fast path."""
    return {
        PROG: f"""examples:
  {PROG} init -i demo-cluster --state-dir ./state
  {PROG} token -i demo-cluster""",
        TOKEN: TOKEN_EXAMPLES,
        "server": f"""examples:
  {PROG} server -c config/server.yaml
  {PROG} server -i demo-cluster --state-dir ./state --backend-mode MountedFile -c config/server.yaml""",
        "init": f"""examples:
  {PROG} init -i demo-cluster --hostname webhook.example.com --state-dir ./state
  {PROG} init -c config/server.yaml""",
        "verify": f"""examples:
  {PROG} verify -i demo-cluster -t "$({PROG} token -i demo-cluster --token-only)"
  {PROG} verify -i demo-cluster -t "$({PROG} token -i demo-cluster --token-only)" -o json""",
        "version": f"""examples:
  {PROG} version
  {PROG} version -o json""",
        "demo": f"""examples:
  {PROG} demo
  {PROG} demo --keep""",
        "completion": f"""examples:
  {PROG} completion bash > ~/.local/share/bash-completion/completions/{PROG}
  {PROG} completion zsh > ~/.zfunc/_{PROG}     # with fpath+=(~/.zfunc) in ~/.zshrc""",
    }


def _add_flags(parser: argparse.ArgumentParser, scope: str, *, env: Mapping[str, str], defaults: bool) -> None:
    """Add the table's flags of ``scope``; without ``defaults`` an absent flag sets nothing.

    On subcommands the global flags' defaults are suppressed so that a global flag given
    before the subcommand is not overwritten by the subcommand's default.
    """
    import argparse

    for flag in FLAGS:
        if flag.scope != scope:
            continue
        default = flag.default_in(env) if defaults else argparse.SUPPRESS
        if flag.switch:
            parser.add_argument(*flag.names, action="store_true", default=default, help=flag.help_line)
        else:
            parser.add_argument(
                *flag.names, default=default, choices=flag.choices, metavar=flag.metavar, help=flag.help_line
            )


def build_parser(env: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand; ``env`` (``os.environ``) gives the flags' environment defaults."""
    import argparse  # not on the token fast path

    from authenticator.defaults import ADDRESS, HOSTNAME, PARTITION, PORT

    class Parser(argparse.ArgumentParser):
        """argparse that reports a usage mistake as one line and exit 1."""

        def error(self, message: str) -> NoReturn:
            sys.stderr.write(f"{self.prog}: error: {message}\n")
            raise SystemExit(1)

    env = os.environ if env is None else env
    examples = argparse.RawDescriptionHelpFormatter  # keeps the examples' lines as written
    epilogs = _examples()
    parser = Parser(
        prog=PROG,
        description="Amazon EKS-style IAM authentication for Kubernetes.",
        epilog=epilogs[PROG],
        formatter_class=examples,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}", help="print the version")
    _add_flags(parser, GLOBAL, env=env, defaults=True)
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=Parser, help="what to do (COMMAND --help: its own help)"
    )

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, epilog=epilogs.get(name), formatter_class=examples)
        _add_flags(p, GLOBAL, env=env, defaults=False)
        return p

    token = command(TOKEN, "print an ExecCredential with a token for kubectl")
    _add_flags(token, TOKEN, env=env, defaults=True)

    server = command("server", "serve the TokenReview webhook over TLS")
    server.add_argument("--address", help=f"address to listen on ({ADDRESS})")
    server.add_argument("--port", type=int, help=f"port to listen on ({PORT})")
    server.add_argument("--hostname", help=f"hostname in the certificate and webhook kubeconfig ({HOSTNAME})")
    server.add_argument("--state-dir", metavar="DIR", help="directory for cert.pem and key.pem")
    server.add_argument("--generate-kubeconfig", metavar="PATH", help="where to write the webhook kubeconfig")
    server.add_argument(
        "--kubeconfig-pregenerated",
        action="store_true",
        default=None,
        help="the webhook kubeconfig was written by init; do not write it",
    )
    server.add_argument("--backend-mode", metavar="LIST", help="ordered, comma-separated mapping sources")
    server.add_argument("--partition", help=f"AWS partition of the tokens to accept ({PARTITION})")
    server.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig for the cluster sources")
    server.add_argument("--master", metavar="URL", help="API server URL for the cluster sources")
    server.add_argument(
        "--admission", action="store_true", default=None, help="also serve the aws-auth guard (/validate/aws-auth)"
    )

    init = command("init", "write the TLS certificate, key and webhook kubeconfig")
    # No defaults here: the config file (-c) fills what the flags leave unset (commands._init_config).
    init.add_argument("--hostname", help=f"hostname the certificate names and the API server dials ({HOSTNAME})")
    init.add_argument("--address", help=f"address the server will listen on, in the certificate ({ADDRESS})")
    init.add_argument("--port", type=int, help=f"port the server will listen on, in the webhook URL ({PORT})")
    init.add_argument(
        "--state-dir", metavar="DIR", help="where to write cert.pem, key.pem and the webhook kubeconfig (.)"
    )
    init.add_argument("--renew", action="store_true", help="write a new certificate and key even if the old are valid")
    init.add_argument(
        "--admission",
        action="store_true",
        default=None,
        help="also write the aws-auth guard's ValidatingWebhookConfiguration",
    )

    verify = command("verify", "verify one token against STS and print the identity")
    verify.add_argument("-t", "--token", required=True, help="the token to verify (k8s-aws-v1.…)")
    verify.add_argument(
        "--partition", help=f"AWS partition of the token (default: the config's server.partition, else {PARTITION})"
    )
    verify.add_argument("-o", "--output", choices=("json",), help="print the identity as JSON")

    version = command("version", "print the version")
    version.add_argument("-o", "--output", choices=("json",), help='print {"Version": ...} as JSON')

    demo = command("demo", "run the whole flow on this machine, without AWS")
    demo.add_argument("--keep", action="store_true", help="leave the demo's directory (config, certificate, logs)")

    # add / remove: their flags live beside their handler, in a module that imports only argparse
    # (importing the edit module means importing the kubernetes client).
    from authenticator.mapping.sources.edit_args import add_edit_commands

    add_edit_commands(command, Parser)

    completion = command("completion", f"print the shell completion script of {PROG}")
    from authenticator.completion import add_shell_argument  # stdlib only until a script is printed

    add_shell_argument(completion)
    return parser


def _load(target: str) -> Callable[[Args], int]:
    # Imported when its subcommand runs, so that only that subcommand pays for its handler's
    # imports. __import__ (what an import statement calls) rather than importlib.import_module:
    # `python -X importtime` then lists the handler's module too, and a cache hit does not
    # import importlib and warnings.
    module, _, func = target.partition(":")
    handler: Callable[[Args], int] = getattr(__import__(module, fromlist=[func]), func)
    return handler


def _version(args: Args) -> int:
    if args.output == "json":
        import json  # not on the token fast path

        sys.stdout.write(json.dumps({"Version": __version__}) + "\n")
    else:
        sys.stdout.write(f"{PROG} {__version__}\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``eks-iam-authenticator``: parse the command line, run its subcommand's handler."""
    words = list(sys.argv[1:] if argv is None else argv)
    args: Args | None = parse_token_argv(words, os.environ)
    if args is None:
        parser = build_parser()
        args = parser.parse_args(words)
        if args.command is None:
            parser.print_help(sys.stderr)
            return 1
    handler = _version if args.command == "version" else _load(_HANDLERS[args.command])
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
