"""M1 (docs/performance.md): ``aws-auth migrate -f json`` on the largest aws-auth a cluster can
store, against ``aws-auth lint`` of the same file; target: at most 1.5 times as long.

The ConfigMap is the L1 one (:func:`bench.lint.configmap`, grown to 1 MiB, about 7,000 entries).
Both commands run as the console scripts a user runs (``python -m authenticator.lint``), as
processes; median of several runs after a warm-up, wall and CPU time. The plan is offline (no
cluster, no IAM): the cost measured is reading and classifying, not the network. Prints value,
anchor (the lint), ratio, target and pass/fail; exits 1 when the target is missed.

    python -m bench.migrate [--bytes 1048576] [--runs 5]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bench.lint import MAX_BYTES, arguments, configmap_file, lint_argv, median, print_header, print_row

TARGET_RATIO = 1.5


def main() -> int:
    args = arguments(__doc__.split("\n")[0])
    with configmap_file(args.bytes) as (path, entries):
        size = path.stat().st_size
        lint = lint_argv(path)
        migrate = [sys.executable, "-m", "authenticator.lint", "migrate", "-f", "json", str(path)]
        check = subprocess.run(migrate, capture_output=True, text=True, check=False, timeout=120)
        if check.returncode not in (0, 1):
            print(f"aws-auth migrate failed: {check.stderr.strip()[-300:]}", file=sys.stderr)
            return 1
        summary = json.loads(check.stdout)["summary"]
        anchor, anchor_cpu = median(lint, args.runs)
        value, value_cpu = median(migrate, args.runs)
    ratio = value / anchor
    ok = ratio <= TARGET_RATIO
    what = f"aws-auth migrate -f json, {size / MAX_BYTES:.2f} MiB"
    print_header(40)
    print_row("M1", what, value, anchor, width=40, target=f"<= {TARGET_RATIO}x", ok=ok)
    print_row("", "  (CPU time of the same runs)", value_cpu, anchor_cpu, width=40)
    print(
        f"     {size:,} bytes, {entries:,} mapRoles; anchor: aws-auth lint of the same file; "
        f"load average {os.getloadavg()[0]:.2f}; plan summary: {summary}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
