"""The flags of ``add`` and ``remove`` (handlers: authenticator.mapping.sources.edit).

A module of its own, importing only argparse: the parser of every command line is built from
it, and the edit module imports the kubernetes client.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["add_edit_commands"]

_ADD_EXAMPLES = """\
examples:
  eks-iam-authenticator add role --rolearn arn:aws:iam::111122223333:role/ops --username 'ops:{{SessionName}}' -g ops
  eks-iam-authenticator add role --sso permissionSetName=Dev,accountID=111122223333 --username dev --groups dev --append
"""

_REMOVE_EXAMPLES = """\
examples:
  eks-iam-authenticator remove user --userarn arn:aws:iam::111122223333:user/alice
  eks-iam-authenticator remove role --sso permissionSetName=Admin,accountID=111122223333
"""

_KUBECONFIG_HELP = "kubeconfig of the cluster (default: $KUBECONFIG, else ~/.kube/config, else in-cluster)"


def _cluster_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", help=_KUBECONFIG_HELP)
    parser.add_argument("--kubeconfig-context", metavar="CONTEXT", help="kubeconfig context (default: its current one)")
    parser.add_argument("--master", "--master-url", dest="master", help="API server URL (overrides the kubeconfig's)")
    # The reference asks before writing unless --prompt=false; this command never asks.
    parser.add_argument("--prompt", nargs="?", const="true", metavar="BOOL", help="accepted and ignored: never prompts")


def _identity_flags(parser: argparse.ArgumentParser, kind: str) -> None:
    parser.add_argument(f"--{kind}arn", help=f"IAM {kind} ARN")
    if kind == "role":
        parser.add_argument(
            "--sso",
            action="append",
            metavar="KEY=VALUE,...",
            help="an IAM Identity Center permission set instead of --rolearn: permissionSetName=NAME,"
            "accountID=ACCOUNT[,partition=aws]",
        )


def add_edit_commands(
    command: Callable[[str, str], argparse.ArgumentParser], parser_class: type[argparse.ArgumentParser]
) -> None:
    """Add ``add`` and ``remove``; ``command(name, help)`` makes a subcommand parser (with the global flags)."""
    for verb, examples, help_text in (
        ("add", _ADD_EXAMPLES, "add an entry to the kube-system/aws-auth ConfigMap"),
        ("remove", _REMOVE_EXAMPLES, "remove a role's or user's entries from the kube-system/aws-auth ConfigMap"),
    ):
        parent = command(verb, help_text)
        parent.epilog = examples
        parent.formatter_class = argparse.RawDescriptionHelpFormatter
        kinds = parent.add_subparsers(
            dest=f"{verb}_kind", metavar="role|user", required=True, parser_class=parser_class, help=f"what to {verb}"
        )
        for kind in ("role", "user"):
            p = kinds.add_parser(
                kind,
                help=f"{verb} an IAM {kind} in kube-system/aws-auth",
                description=f"{verb} an IAM {kind} in kube-system/aws-auth",
                epilog=examples,
                formatter_class=argparse.RawDescriptionHelpFormatter,
            )
            _identity_flags(p, kind)
            if verb == "add":
                p.add_argument("--username", required=True, help="Kubernetes username (may use {{...}} placeholders)")
                p.add_argument(
                    "--groups", action="append", default=[], help="Kubernetes groups (comma-separated, repeatable)"
                )
                p.add_argument(
                    "--append",
                    action="store_true",
                    help="merge the groups into an existing entry of this ARN (and set its username) "
                    "instead of refusing a duplicate",
                )
            _cluster_flags(p)
