"""``python -m tests.mutation [MODULE ...]``: mutation testing of the security core (docs/mutation.md).

Runs ``mutmut run`` (configured in pyproject.toml ``[tool.mutmut]``) for one module at a time,
then prints the score of each module as a Markdown table. Exits 1 when a mutant survives that
is not listed below as equivalent (docs/mutation.md says why each one is), so CI can run it as a
scheduled job; each module then needs a clean run to pass.

``--report`` prints the table of the last run without running anything.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Module:
    name: str
    path: str  # the mutated file, relative to the repository
    mutants: tuple[str, ...]  # mutmut name globs


MODULES = (
    Module("mapping-chain", "authenticator/mapping/chain.py", ("authenticator.mapping.chain.*",)),
    Module("verification-cache", "authenticator/verification_cache.py", ("authenticator.verification_cache.*",)),
    Module("arn", "authenticator/arn.py", ("authenticator.arn.*",)),
    Module("token", "authenticator/token.py", ("authenticator.token.*",)),
    # The SSO matcher and the mapping entries' own rules.
    Module("mapping-model", "authenticator/mapping/model.py", ("authenticator.mapping.model.*",)),
    Module("templates", "authenticator/mapping/templates.py", ("authenticator.mapping.templates.*",)),
    # The identity taken from the STS answer (authenticator/identity.py is a plain dataclass).
    Module(
        "sts-identity",
        "authenticator/sts.py",
        (
            "authenticator.sts.x_identity_from_response_*",
            "authenticator.sts.x__field_*",
            "authenticator.sts.x__text_field_*",
        ),
    ),
    Module("presign", "client_plugin/presign.py", ("client_plugin.presign.*",)),
)

# Survivors that no test can kill: the program behaves the same. docs/mutation.md says why.
_CHAIN = "authenticator.mapping.chain."
_CACHE = "authenticator.verification_cache.xǁVerifiedIdentityCacheǁ"
EQUIVALENT: frozenset[str] = frozenset(
    {
        _CHAIN + "x_reserved_prefixes_from_config__mutmut_6",
        _CHAIN + "xǁMappingIndexǁexplicit__mutmut_12",
        _CHAIN + "xǁMappingChainǁmap__mutmut_9",
        *(_CHAIN + f"xǁMappingChainǁmap__mutmut_{n}" for n in range(45, 53)),
        _CACHE + "_evict__mutmut_3",
        _CACHE + "_store__mutmut_1",
        _CACHE + "recall__mutmut_5",
        *(f"authenticator.mapping.model.x_sso_role_key__mutmut_{n}" for n in (5, 6, 8, 29)),
        "authenticator.token.x__quote__mutmut_19",
        "authenticator.token.x__quote__mutmut_23",
        "authenticator.token.x_token_sha256__mutmut_7",
        *(f"authenticator.token.x__decode_base64url__mutmut_{n}" for n in (19, 27)),
        *(f"authenticator.token.x_parse_token__mutmut_{n}" for n in (11, 26, 87, 191)),
        *(f"authenticator.token.x__split_url__mutmut_{n}" for n in (45, 46, 48)),
        "authenticator.sts.x_identity_from_response__mutmut_5",
        "client_plugin.presign.x__hmac__mutmut_9",
        "client_plugin.presign.x__signing_key__mutmut_11",
        "client_plugin.presign.x_encode_token__mutmut_8",
        "client_plugin.presign.x_encode_token__mutmut_10",
        "client_plugin.presign.x__uri_encode__mutmut_5",
        "client_plugin.presign.x_presign_get_caller_identity__mutmut_69",
        "client_plugin.presign.x_presign_get_caller_identity__mutmut_85",
        *(f"authenticator.token.x__parse_query__mutmut_{n}" for n in (22, 24, 38, 40)),
        *(f"authenticator.token.x_canonical_sha256__mutmut_{n}" for n in (3, 11, 17, 18, 28, 30, 31, 36, 37)),
    }
)

# mutmut's exit codes of a mutant the tests detect: failed (1, 3), timed out (36, 24, -24, 152, 255,
# and -9 when the time limit's SIGKILL ends it), crashed (-11), caught by the type check (37).
KILLED = {1, 3, 36, 24, -24, 152, 255, -9, -11, 37}


def _results(module: Module) -> dict[str, int | None]:
    meta = ROOT / "mutants" / f"{module.path}.meta"
    if not meta.exists():
        return {}
    codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    return {k: v for k, v in codes.items() if any(fnmatch.fnmatchcase(k, g) for g in module.mutants)}


def report(modules: list[Module]) -> bool:
    """Print the table; True when every survivor is a listed equivalent."""
    print("| module | mutants | killed | equivalent | other survivors | not run | score | of non-equivalent |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    clean = True
    for module in modules:
        codes = _results(module)
        killed = sum(1 for v in codes.values() if v in KILLED)
        not_run = sum(1 for v in codes.values() if v is None)
        alive = sorted(k for k, v in codes.items() if v is not None and v not in KILLED)
        equivalent = [k for k in alive if k in EQUIVALENT]
        other = [k for k in alive if k not in EQUIVALENT]
        checked = len(codes) - not_run
        score = f"{100 * killed / checked:.1f}%" if checked else "-"
        net = f"{100 * killed / (checked - len(equivalent)):.1f}%" if checked > len(equivalent) else "-"
        cells = (module.name, len(codes), killed, len(equivalent), len(other), not_run, score, net)
        print("| " + " | ".join(map(str, cells)) + " |")
        clean = clean and bool(codes) and not other and not not_run
        for name in other:
            print(f"  survived: {name}", file=sys.stderr)
    return clean


def main(argv: list[str] | None = None) -> int:
    names = [m.name for m in MODULES]
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"default: all of {', '.join(names)}")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--report", action="store_true", help="only print the table of the last run")
    args = parser.parse_args(argv)
    unknown = [n for n in args.modules if n not in names]
    if unknown:
        parser.error(f"unknown module {unknown[0]!r}; one of {', '.join(names)}")
    modules = [m for m in MODULES if not args.modules or m.name in args.modules]
    if not args.report and shutil.which("mutmut") is None:
        print("mutmut is not installed: pip install -e '.[test,mutation]'", file=sys.stderr)
        return 1
    if not args.report:
        for module in modules:
            print(f"+ mutmut run {' '.join(module.mutants)}", flush=True)
            command = ["mutmut", "run", "--max-children", str(args.max_children), *module.mutants]
            if subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL).returncode != 0:
                print(f"mutmut failed on {module.name}; run the command above to see why", file=sys.stderr)
                return 1
    return 0 if report(modules) else 1


if __name__ == "__main__":
    sys.exit(main())
