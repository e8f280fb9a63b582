"""L1 (docs/performance.md): ``aws-auth lint`` on the largest aws-auth a cluster can store, wall time.

The ConfigMap is grown entry by entry up to 1 MiB (the API server's limit for one object),
nearly all of it ``mapRoles`` (about 7,000 entries). Anchor: ``python -c pass`` in the same run
(the interpreter's start-up floor). Median of several runs after a warm-up. Prints value,
anchor, ratio, target and pass/fail; exits 1 when the target is missed.

    python -m bench.lint [--bytes 1048576] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TARGET_SECONDS = 2.0
MAX_BYTES = 1024 * 1024  # the API server refuses a larger object
ACCOUNT = "739275461218"


def _role(i: int) -> str:
    if i % 10 == 0:
        return (
            f"    - rolearn: arn:aws:iam::{ACCOUNT}:role/nodes-{i}\n"
            "      username: system:node:{{EC2PrivateDNSName}}\n"
            "      groups:\n        - system:bootstrappers\n        - system:nodes\n"
        )
    return (
        f"    - rolearn: arn:aws:iam::{ACCOUNT}:role/team-{i}\n"
        f'      username: "team-{i}:{{{{SessionName}}}}"\n'
        f"      groups:\n        - team-{i % 50}\n        - viewers\n"
    )


def configmap(max_bytes: int) -> tuple[str, int]:
    """(text, mapRoles entries): a realistic aws-auth of at most ``max_bytes`` bytes — node roles
    and people's roles in mapRoles, a few users and an account."""
    head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n"
    users = "".join(
        f"    - userarn: arn:aws:iam::{ACCOUNT}:user/user-{i}\n      username: user-{i}\n"
        f"      groups:\n        - team-{i}\n"
        for i in range(10)
    )
    tail = "  mapUsers: |\n" + users + '  mapAccounts: |\n    - "210987654321"\n'
    roles: list[str] = []
    size = len(head) + len("  mapRoles: |\n") + len(tail)
    while size + len(role := _role(len(roles))) <= max_bytes:
        roles.append(role)
        size += len(role)
    return head + "  mapRoles: |\n" + "".join(roles) + tail, len(roles)


def arguments(description: str) -> argparse.Namespace:
    """``--bytes`` and ``--runs``, the options of the benchmarks on the L1 ConfigMap."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--bytes", type=int, default=MAX_BYTES, help="size of the aws-auth ConfigMap")
    parser.add_argument("--runs", type=int, default=5)
    return parser.parse_args()


@contextmanager
def configmap_file(max_bytes: int) -> Iterator[tuple[Path, int]]:
    """(path, mapRoles entries) of the :func:`configmap` of ``max_bytes``, in a temporary file."""
    text, entries = configmap(max_bytes)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "aws-auth.yaml"
        path.write_text(text)
        yield path, entries


def lint_argv(path: Path) -> list[str]:
    """``aws-auth lint`` of ``path`` as a user runs it, without a config file and never failing."""
    return [sys.executable, "-m", "authenticator.lint", "lint", "--no-config", "--fail-on", "never", str(path)]


def _run(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child): on a shared machine the CPU time drifts less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=120)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median(argv: list[str], runs: int) -> tuple[float, float]:
    _run(argv)  # warm-up: page cache, .pyc files
    samples = [_run(argv) for _ in range(runs)]
    return statistics.median(w for w, _ in samples), statistics.median(c for _, c in samples)


def print_header(width: int) -> None:
    """The head of the table the file benchmarks (L1, M1, A1) print; ``width`` of the what column."""
    print(f"{'id':<4} {'what':<{width}} {'value':>9} {'anchor':>9} {'ratio':>7} {'target':>10} {'result':>6}")


def print_row(
    bench_id: str, what: str, value: float, anchor: float, *, width: int, target: str = "", ok: bool | None = None
) -> None:
    """One row: seconds against the anchor's, their ratio, the target and pass/FAIL (none for a
    row that only reports, such as the CPU time of the same runs)."""
    result = "" if ok is None else "pass" if ok else "FAIL"
    ratio = value / max(anchor, 1e-3)
    digits = 2 if ratio < 10 else 0
    print(
        f"{bench_id:<4} {what:<{width}} {value:>8.3f}s {anchor:>8.3f}s {ratio:>6.{digits}f}x {target:>10} {result:>6}"
    )


def main() -> int:
    args = arguments(__doc__.split("\n")[0])
    with configmap_file(args.bytes) as (path, entries):
        size = path.stat().st_size
        lint = lint_argv(path)
        check = subprocess.run(lint, capture_output=True, text=True, check=False, timeout=120)
        anchor, anchor_cpu = median([sys.executable, "-c", "pass"], args.runs)
        value, value_cpu = median(lint, args.runs)
    ok = value <= TARGET_SECONDS
    what = f"aws-auth lint, {size / MAX_BYTES:.2f} MiB, {entries:,} mapRoles"
    print_header(40)
    print_row("L1", what, value, anchor, width=40, target=f"<= {TARGET_SECONDS:.3f}s", ok=ok)
    print_row("", "  (CPU time of the same runs)", value_cpu, anchor_cpu, width=40)
    last = check.stdout.strip().splitlines()[-1] if check.stdout.strip() else check.stderr.strip()[-200:]
    print(f"     {size:,} bytes; load average {os.getloadavg()[0]:.2f}; the linter said: {last}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
