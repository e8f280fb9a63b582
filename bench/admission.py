"""A1 (docs/performance.md): one AdmissionReview of the largest aws-auth a cluster can store, answered
by the aws-auth guard of the real ``server`` process, wall time.

The aws-auth is bench/lint.py's 1 MiB ConfigMap (about 7,000 mapRoles entries), in three reviews:
an UPDATE that changes one entry (the old and the new object both 1 MiB, by a requester both map:
the new object is linted); the most work the guard does, an UPDATE that removes the requester's
own entry (the new object linted, the old one read too for the lockout check: denied); and a
CREATE; and an UPDATE by an IAM user removing their own mapUsers entry beside the unchanged
1 MiB mapRoles (denied; only the changed section of the old object is read again). Each time is one POST over TLS on a
warm connection (the body already encoded), median of several runs after a warm-up. Anchor: the
same POST of a review the guard lets through at once (a small ConfigMap elsewhere), in the same
run. Prints value, anchor, ratio, target and pass/fail; exits 1 when the target is missed.

    python -m bench.admission [--bytes 1048576] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from authenticator.words import counted
from bench.lint import ACCOUNT, MAX_BYTES, configmap, print_header, print_row
from tests.support.admission import review
from tests.support.processes import Webhook

TARGET_SECONDS = 1.0
REQUESTER_ROLE = "team-1"  # an entry of bench/lint.py's ConfigMap
REQUESTER_USER = "user-3"  # one of its mapUsers


def _review(
    operation: str, new: dict[str, Any], old: dict[str, Any] | None, user: dict[str, Any] | None = None
) -> bytes:
    role = f"arn:aws:iam::{ACCOUNT}:role/{REQUESTER_ROLE}"
    by_role = {
        "username": f"{REQUESTER_ROLE}:alice",
        "extra": {"arn": [f"arn:aws:sts::{ACCOUNT}:assumed-role/{REQUESTER_ROLE}/alice"], "canonicalArn": [role]},
    }
    return json.dumps(review(operation, new, old, user=user or by_role)).encode()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc): on a shared machine it drifts
    far less than wall time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _time(webhook: Webhook, body: bytes, runs: int) -> tuple[float, float, dict[str, Any]]:
    """(median wall seconds, median server CPU seconds, the last answer) of one review."""

    def once() -> tuple[float, float, dict[str, Any]]:
        cpu = _cpu_seconds(webhook.proc.pid)
        start = time.perf_counter()
        response = webhook.client.post("/validate/aws-auth", content=body, headers={"Content-Type": "application/json"})
        elapsed = time.perf_counter() - start
        response.raise_for_status()
        answer: dict[str, Any] = response.json()["response"]
        return elapsed, _cpu_seconds(webhook.proc.pid) - cpu, answer

    once()  # warm-up: imports, first-use caches
    samples = [once() for _ in range(runs)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples), samples[-1][2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bytes", type=int, default=MAX_BYTES, help="size of the aws-auth ConfigMap")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    text, entries = configmap(args.bytes)
    old = yaml.safe_load(text)
    new = yaml.safe_load(text)
    new["data"]["mapRoles"] = new["data"]["mapRoles"].replace("team-5:", "team-five:", 1)
    small = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other", "namespace": "default"}}
    unmapped = yaml.safe_load(text)
    own_entry = unmapped["data"]["mapRoles"].index(f"role/{REQUESTER_ROLE}\n")
    start = unmapped["data"]["mapRoles"].rindex("- rolearn:", 0, own_entry)
    end = unmapped["data"]["mapRoles"].index("- rolearn:", own_entry)
    unmapped["data"]["mapRoles"] = unmapped["data"]["mapRoles"][:start] + unmapped["data"]["mapRoles"][end:]
    # An IAM user removing their own mapUsers entry: mapRoles, 1 MiB, is sent unchanged.
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/{REQUESTER_USER}"
    user = {"username": REQUESTER_USER, "extra": {"arn": [user_arn], "canonicalArn": [user_arn]}}
    no_user = yaml.safe_load(text)
    users = no_user["data"]["mapUsers"]
    start = users.index(f"- userarn: {user_arn}\n")
    no_user["data"]["mapUsers"] = users[:start] + users[users.index("- userarn:", start + 1) :]
    bodies = {
        "update": _review("UPDATE", new, old),
        "lockout": _review("UPDATE", unmapped, old),
        "create": _review("CREATE", new, None),
        "users": _review("UPDATE", no_user, old, user),
        "anchor": _review("CREATE", small, None),
    }
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text("clusterID: bench-admission\nserver:\n  admission:\n    enabled: true\n")
        with Webhook(config, Path(tmp) / "state") as webhook:
            anchor, anchor_cpu, _ = _time(webhook, bodies["anchor"], args.runs)
            update, update_cpu, update_answer = _time(webhook, bodies["update"], args.runs)
            lockout, lockout_cpu, lockout_answer = _time(webhook, bodies["lockout"], args.runs)
            create, create_cpu, create_answer = _time(webhook, bodies["create"], args.runs)
            users, users_cpu, users_answer = _time(webhook, bodies["users"], args.runs)
            webhook.terminate()
    size = len(text.encode())
    print_header(44)
    results = []
    rows = (
        ("UPDATE", update, update_cpu, update_answer),
        ("UPDATE unmapping the requester", lockout, lockout_cpu, lockout_answer),
        ("CREATE", create, create_cpu, create_answer),
        ("UPDATE unmapping own mapUsers entry", users, users_cpu, users_answer),
    )
    for label, value, cpu, answer in rows:
        ok = value <= TARGET_SECONDS
        results.append(ok)
        what = f"{label}, {size / MAX_BYTES:.2f} MiB"
        print_row("A1", what, value, anchor, width=44, target=f"<= {TARGET_SECONDS:.3f}s", ok=ok)
        print_row("", "  (server CPU time of the same reviews)", cpu, anchor_cpu, width=44)
        verdict = "allowed" if answer["allowed"] else "denied"
        reason = f" ({answer['status']['message'][:60]}...)" if not answer["allowed"] else ""
        print(f"     the guard said: {verdict}{reason}, {counted(len(answer.get('warnings') or []), 'warning')}")
    print(f"     {size:,} bytes, {entries:,} mapRoles per object; load average {os.getloadavg()[0]:.2f}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
