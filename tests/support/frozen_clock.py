"""Run ``aws`` or our ``token`` with the clock frozen at one instant, in a process of its own.

    python frozen_clock.py EPOCH aws eks get-token --cluster-name C
    python frozen_clock.py EPOCH token -i C

Both are Python, so the clock is injected instead of faking the system's (no libfaketime):
awscli runs in-process through its own driver (``awscli.clidriver.create_clidriver().main``) with
the two clocks it reads replaced — botocore's SigV4 signer (``botocore.auth``) and the token's
``expirationTimestamp`` (``awscli.customizations.eks.get_token``); our plugin runs its ``token``
handler (``client_plugin.cli.execute``), whose clock is a parameter. Run as a script (this file
imports nothing from the tests), in a fresh process per call: awscli's module state is global.
"""

from __future__ import annotations

import datetime
import os
import sys
from collections.abc import Callable


def _frozen_datetime(epoch: float) -> Callable[[bool], datetime.datetime]:
    instant = datetime.datetime.fromtimestamp(epoch, datetime.UTC)

    def get_current_datetime(remove_tzinfo: bool = True) -> datetime.datetime:
        return instant.replace(tzinfo=None) if remove_tzinfo else instant

    return get_current_datetime


def _aws(epoch: float, argv: list[str]) -> int:
    import awscli.clidriver
    import awscli.customizations.eks.get_token as get_token
    import botocore.auth

    frozen = _frozen_datetime(epoch)
    # Each module bound the name at import: replace it where it is read.
    # botocore-stubs do not list the name botocore.auth imports from botocore.compat: write it in
    # the module's namespace, checking it is there (a botocore that stops reading it fails here).
    auth_namespace = vars(botocore.auth)
    assert "get_current_datetime" in auth_namespace
    auth_namespace["get_current_datetime"] = frozen
    get_token.get_current_datetime = frozen
    return int(awscli.clidriver.create_clidriver().main(argv))


def _token(epoch: float, argv: list[str]) -> int:
    from client_plugin.cli import execute
    from client_plugin.flags import parse_token_argv

    args = parse_token_argv(["token", *argv], os.environ)
    if args is None:
        sys.stderr.write(f"not a plain token command line: {argv}\n")
        return 2
    return execute(args, env=os.environ, stdout=sys.stdout, stderr=sys.stderr, clock=lambda: epoch)


def main(argv: list[str]) -> int:
    epoch, program, *rest = argv
    run = {"aws": _aws, "token": _token}[program]
    return run(float(epoch), rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
