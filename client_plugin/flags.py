"""The flags a ``token`` command line may carry, declared once, and the parser kubectl's calls take.

``FLAGS`` is the only list of them. authenticator.cli builds its argparse parser from it
(the global flags on every subcommand, the token flags on ``token``), and
``parse_token_argv`` reads a plain ``token`` command line with it, without argparse:
kubectl runs ``eks-iam-authenticator token -i X --cache`` before every command, and
importing argparse (with gettext) and building the parser of every subcommand costs about
a third of a cache hit (docs/performance.md C1).

``parse_token_argv`` understands the spellings kubeconfigs use — each flag as separate
words or ``--long=value`` — and returns ``None`` for anything else (help, unknown or
abbreviated flags, values that start with ``-``, a switch given a value, a value outside
a flag's choices), so that argparse handles it and its messages stay the only ones users
see. tests/plugin/test_plugin_fastpath.py checks that both parsers agree.

Stdlib only, like everything on the cache-hit path.
"""

from __future__ import annotations

from types import SimpleNamespace

from authenticator.defaults import LOG_FORMAT, LOG_VERBOSITY
from client_plugin._record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["FLAGS", "GLOBAL", "TOKEN", "TOKEN_EXAMPLES", "Flag", "parse_token_argv"]

GLOBAL = "global"  # accepted before the subcommand and after any subcommand
TOKEN = "token"  # accepted after ``token`` only


class Flag(Record):
    """One flag: its spellings, where it is accepted, its default and its help line."""

    _fields = ("names", "dest", "scope", "help", "default", "env", "switch", "choices", "metavar")
    __slots__ = _fields
    names: tuple[str, ...]
    dest: str  # the attribute it sets, named as argparse names it: after the long spelling
    scope: str  # GLOBAL or TOKEN
    help: str
    default: object
    env: str | None  # an environment variable that, when set, replaces the default
    switch: bool  # takes no value; present means True
    choices: tuple[str, ...] | None
    metavar: str | None

    def __init__(
        self,
        *names: str,
        help: str,
        scope: str = TOKEN,
        default: object = None,
        env: str | None = None,
        switch: bool = False,
        choices: tuple[str, ...] | None = None,
        metavar: str | None = None,
    ) -> None:
        (long,) = (name for name in names if name.startswith("--"))
        dest = long[2:].replace("-", "_")
        super().__init__(names, dest, scope, help, False if switch else default, env, switch, choices, metavar)

    def default_in(self, env: Mapping[str, str]) -> object:
        return env[self.env] if self.env is not None and self.env in env else self.default

    @property
    def help_line(self) -> str:
        return f"{self.help} (env {self.env})" if self.env else self.help


FLAGS = (
    Flag(
        "-i",
        "--cluster-id",
        scope=GLOBAL,
        env="KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID",
        metavar="ID",
        help="cluster id the tokens are for (the server's clusterID)",
    ),
    Flag("-c", "--config", scope=GLOBAL, metavar="FILE", help="the server's configuration file (YAML)"),
    Flag(
        "-l",
        "--log-format",
        scope=GLOBAL,
        choices=("text", "json"),
        default=LOG_FORMAT,
        help=f"log line format ({LOG_FORMAT})",
    ),
    Flag(
        "-v",
        "--log-verbosity",
        scope=GLOBAL,
        default=LOG_VERBOSITY,
        metavar="LEVEL",
        help="log level: debug, info, warning, error",
    ),
    Flag(
        "--region",
        metavar="REGION",
        help="AWS region of the STS endpoint (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's, us-east-1)",
    ),
    Flag("--profile", metavar="NAME", help="AWS profile to sign with (default: AWS_PROFILE, else the default chain)"),
    Flag("-r", "--role", env="DEFAULT_ROLE", metavar="ARN", help="role ARN to assume, and sign as"),
    Flag("-e", "--external-id", metavar="ID", help="external id for --role"),
    Flag("-s", "--session-name", metavar="NAME", help="session name for --role"),
    Flag("--forward-session-name", switch=True, help="use the caller's own session name as the session name of --role"),
    Flag("--token-only", switch=True, help="print only the token"),
    Flag("--cache", switch=True, help="cache tokens and assumed-role credentials"),
)

_BY_NAME = {name: flag for flag in FLAGS for name in flag.names}

# The end of ``token --help`` (argparse's, built only then: never on kubectl's calls).
TOKEN_EXAMPLES = """examples:
  eks-iam-authenticator token -i demo-cluster --cache
  eks-iam-authenticator token -i demo-cluster -r arn:aws:iam::111122223333:role/k8s-admin --token-only"""


def parse_token_argv(argv: Sequence[str], env: Mapping[str, str]) -> SimpleNamespace | None:
    """The namespace argparse would give for a plain ``token`` invocation, else ``None``."""
    values: dict[str, object] = {"command": TOKEN} | {flag.dest: flag.default_in(env) for flag in FLAGS}
    in_token = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == TOKEN and not in_token:
            in_token = True
            continue
        if not arg.startswith("-") or arg in ("-", "--"):
            return None
        name, has_inline, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        flag = _BY_NAME.get(name)
        if flag is None or (flag.scope == TOKEN and not in_token):
            return None
        if flag.switch:
            if has_inline:
                return None
            values[flag.dest] = True
            continue
        if has_inline:
            value = inline
        elif i < len(argv) and not argv[i].startswith("-"):
            value = argv[i]
            i += 1
        else:
            return None  # argparse's rules for such values are subtle: let it decide
        if flag.choices is not None and value not in flag.choices:
            return None
        values[flag.dest] = value
    return SimpleNamespace(**values) if in_token else None
