"""Parse a plain ``token`` command line without argparse (the kubectl hot path).

kubectl runs ``eks-iam-authenticator token -i X --cache`` before every command.
Importing argparse (with gettext, locale, shutil, bz2, lzma) and building the full
parser of every subcommand costs about a third of a cache hit. ``parse_token_argv``
understands exactly the spellings kubeconfigs use — the flags of cli.md as separate
words or ``--long=value`` — and returns ``None`` for anything else (help, unknown or
abbreviated flags, values that start with ``-``), so that argparse handles it and
its errors stay the only ones users see. tests/plugin/test_plugin_fastpath.py checks
it against authenticator.cli's argparse parser.
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["main", "parse_token_argv"]

_GLOBAL_VALUES = {
    "-i": "cluster_id",
    "--cluster-id": "cluster_id",
    "-c": "config",
    "--config": "config",
    "-l": "log_format",
    "--log-format": "log_format",
    "-v": "log_verbosity",
    "--log-verbosity": "log_verbosity",
}
_TOKEN_VALUES = {
    "--region": "region",
    "--profile": "profile",
    "-r": "role",
    "--role": "role",
    "-e": "external_id",
    "--external-id": "external_id",
    "-s": "session_name",
    "--session-name": "session_name",
}
_TOKEN_SWITCHES = {
    "--forward-session-name": "forward_session_name",
    "--token-only": "token_only",
    "--cache": "cache",
}
_LOG_FORMATS = ("text", "json")


def parse_token_argv(argv: Sequence[str], env: Mapping[str, str]) -> SimpleNamespace | None:
    """The namespace argparse would give for a plain ``token`` invocation, else ``None``."""
    values: dict[str, object] = {
        "command": "token",
        "cluster_id": env.get("KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID"),
        "config": None,
        "log_format": "text",
        "log_verbosity": "info",
        "region": None,
        "profile": None,
        "role": env.get("DEFAULT_ROLE") or None,
        "external_id": None,
        "session_name": None,
        "forward_session_name": False,
        "token_only": False,
        "cache": False,
    }
    in_token = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "token" and not in_token:
            in_token = True
            continue
        if not arg.startswith("-") or arg in ("-", "--"):
            return None
        name, has_inline, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        dest = _GLOBAL_VALUES.get(name) or (_TOKEN_VALUES.get(name) if in_token else None)
        if dest is not None:
            if has_inline:
                value = inline
            else:
                if i >= len(argv) or argv[i].startswith("-"):
                    return None  # argparse's rules for such values are subtle: let it decide
                value = argv[i]
                i += 1
            if dest == "log_format" and value not in _LOG_FORMATS:
                return None
            values[dest] = value
        elif in_token and not has_inline and name in _TOKEN_SWITCHES:
            values[_TOKEN_SWITCHES[name]] = True
        else:
            return None
    return SimpleNamespace(**values) if in_token else None


def main(argv: Sequence[str] | None = None) -> int:
    """``eks-iam-authenticator`` with the argparse-free path for plain ``token`` runs."""
    args = list(sys.argv[1:] if argv is None else argv)
    namespace = parse_token_argv(args, os.environ)
    if namespace is None:
        from authenticator.cli import main as full_main

        return full_main(args)
    from client_plugin.cli import run

    try:
        return run(namespace)  # type: ignore[arg-type]  # duck-typed like argparse.Namespace
    except KeyboardInterrupt:
        return 130
