"""L1 (performance.md): ``aws-auth lint`` on a 10,000-entry aws-auth ConfigMap, wall time.

Anchor: ``python -c pass`` in the same run (the interpreter's start-up floor). Median of
several runs after a warm-up. Prints value, anchor, ratio, target and pass/fail.

    python bench/lint.py [--entries 10000] [--runs 5]
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
from pathlib import Path

TARGET_SECONDS = 1.0
ACCOUNT = "739275461218"


def configmap(entries: int) -> str:
    """A realistic large aws-auth: node roles, people's roles, some users and accounts."""
    roles: list[str] = []
    users: list[str] = []
    for i in range(entries):
        if i % 10 == 9:
            users.append(
                f"    - userarn: arn:aws:iam::{ACCOUNT}:user/user-{i}\n"
                f"      username: user-{i}\n"
                f"      groups:\n        - team-{i % 50}\n"
            )
        elif i % 10 == 0:
            roles.append(
                f"    - rolearn: arn:aws:iam::{ACCOUNT}:role/nodes-{i}\n"
                "      username: system:node:{{EC2PrivateDNSName}}\n"
                "      groups:\n        - system:bootstrappers\n        - system:nodes\n"
            )
        else:
            roles.append(
                f"    - rolearn: arn:aws:iam::{ACCOUNT}:role/team-{i}\n"
                f'      username: "team-{i}:{{{{SessionName}}}}"\n'
                f"      groups:\n        - team-{i % 50}\n        - viewers\n"
            )
    return (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n"
        "  mapRoles: |\n"
        + "".join(roles)
        + "  mapUsers: |\n"
        + "".join(users)
        + '  mapAccounts: |\n    - "210987654321"\n'
    )


def _run(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child): on a shared machine the CPU time drifts less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=120)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _median(argv: list[str], runs: int) -> tuple[float, float]:
    _run(argv)  # warm-up: page cache, .pyc files
    samples = [_run(argv) for _ in range(runs)]
    return statistics.median(w for w, _ in samples), statistics.median(c for _, c in samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "aws-auth.yaml"
        path.write_text(configmap(args.entries))
        size = path.stat().st_size
        lint = [sys.executable, "-m", "authenticator.lint", "lint", "--no-config", "--fail-on", "never", str(path)]
        check = subprocess.run(lint, capture_output=True, text=True, check=False, timeout=120)
        anchor, anchor_cpu = _median([sys.executable, "-c", "pass"], args.runs)
        value, value_cpu = _median(lint, args.runs)
    ok = value <= TARGET_SECONDS
    what = f"aws-auth lint, {args.entries:,} entries"
    print(f"{'id':<4} {'what':<34} {'value':>9} {'anchor':>9} {'ratio':>7} {'target':>10} {'result':>6}")
    print(
        f"{'L1':<4} {what:<34} {value:>8.3f}s {anchor:>8.3f}s {value / anchor:>6.1f}x "
        f"{'<= 1.000s':>10} {'pass' if ok else 'FAIL':>6}"
    )
    cpu_ratio = value_cpu / max(anchor_cpu, 1e-3)
    print(f"{'':<4} {'  (CPU time of the same runs)':<34} {value_cpu:>8.3f}s {anchor_cpu:>8.3f}s {cpu_ratio:>6.1f}x")
    last = check.stdout.strip().splitlines()[-1] if check.stdout.strip() else check.stderr.strip()[-200:]
    print(f"     {size:,} bytes; load average {os.getloadavg()[0]:.2f}; the linter said: {last}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
