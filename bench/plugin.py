"""Benchmark C1-C3 of docs/performance.md for ``eks-iam-authenticator token``.

    .venv/bin/python -m bench.plugin [--runs N] [--warmup W] [--in-place]

It measures the plugin as users get it from ``pip install``: a throw-away venv with
the project installed non-editable (an editable install adds its import-hook finder,
~25-35 ms, to every Python start). Dependencies (botocore, awscli) come from this venv
through a path entry. ``--in-place`` measures this venv's own console script instead.
Every figure is a ratio against an anchor measured in the same run: the commands
are run round-robin (so machine drift hits them alike), each median of N wall times
after W warm-ups. Environment credentials in a throw-away HOME; nothing leaves
127.0.0.1. Not a test: it prints a table and exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from authenticator.demo.apiserver import ApiServerStandIn
from tests.support.plugin import plugin_token_check

ROOT = Path(__file__).resolve().parent.parent

BIN = Path(sys.executable).parent
CLUSTER = "bench-cluster"


@dataclass(frozen=True)
class Row:
    id: str
    what: str
    value: float
    anchor_what: str
    anchor: float
    target: float  # the ratio must be <= target

    @property
    def ratio(self) -> float:
        return self.value / self.anchor

    @property
    def passed(self) -> bool:
        return self.ratio <= self.target


def _kubectl() -> str:
    found = shutil.which("kubectl")
    if not found:
        raise SystemExit("kubectl is not installed")
    plain = Path(os.path.realpath(found)).parent / "kubectl.1.33"
    return str(plain) if plain.exists() else found


def _wall(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, timeout=120)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{command[0]} failed: {result.stderr.decode(errors='replace').strip()}")
    return elapsed


def _site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def _throwaway_install(where: Path) -> Path:
    """A venv with the project installed from a copy of ROOT (not editable); returns its python."""
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(where)], check=True)  # type: ignore[attr-defined]
    python = where / "bin" / "python"
    # Dependencies from this venv, as a plain path entry (its .pth files are not run).
    (_site_packages(python) / "_bench_deps.pth").write_text(f"{_site_packages(Path(sys.executable))}\n")
    # From a copy: pip builds in the source tree, and setuptools' build/ keeps modules that the
    # tree no longer has (a renamed module would be measured, and shipped, twice).
    source = where.parent / "source"
    junk = (".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis")
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*junk))
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(source)],
        check=True,
        capture_output=True,
    )
    return python


def _medians(commands: dict[str, list[str]], env: dict[str, str], runs: int, warmup: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(warmup + runs):
        for name, command in commands.items():
            elapsed = _wall(command, env)
            if i >= warmup:
                samples[name].append(elapsed)
    return {name: statistics.median(values) * 1000 for name, values in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--in-place", action="store_true", help="measure this venv's (editable) console script")
    options = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="bench-plugin-") as tmp,
        ApiServerStandIn(check=plugin_token_check) as apiserver,
    ):
        home = Path(tmp) / "home"
        home.mkdir()
        if options.in_place:
            python = Path(sys.executable)
        else:
            print("installing the project into a throw-away venv ...", file=sys.stderr)
            python = _throwaway_install(Path(tmp) / "venv")
        kubectl = _kubectl()
        plugin = str(python.parent / "eks-iam-authenticator")
        aws = [str(python), str(BIN / "aws")]  # awscli under the same interpreter set-up
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "AWS_DEFAULT_REGION": "us-west-2",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        token_cached = [plugin, "token", "-i", CLUSTER, "--cache"]
        static_token = json.loads(subprocess.run(token_cached, env=env, capture_output=True, check=True).stdout)
        exec_config = home / "exec.kubeconfig"
        exec_config.write_text(
            apiserver.kubeconfig(
                exec={
                    "apiVersion": "client.authentication.k8s.io/v1beta1",
                    "command": plugin,
                    "args": ["token", "-i", CLUSTER, "--cache"],
                }
            )
        )
        static_config = home / "static.kubeconfig"
        static_config.write_text(apiserver.kubeconfig(token=static_token["status"]["token"]))

        medians = _medians(
            {
                "aws": [*aws, "eks", "get-token", "--cluster-name", CLUSTER],
                "cached": token_cached,
                "uncached": [plugin, "token", "-i", CLUSTER],
                "kubectl_exec": [kubectl, "--kubeconfig", str(exec_config), "get", "--raw", "/version"],
                "kubectl_static": [kubectl, "--kubeconfig", str(static_config), "get", "--raw", "/version"],
            },
            env,
            options.runs,
            options.warmup,
        )

    get_token = "aws eks get-token"
    rows = [
        Row("C1", "token --cache, cache hit", medians["cached"], get_token, medians["aws"], 0.10),
        Row("C2", "token, no cache, env credentials", medians["uncached"], get_token, medians["aws"], 0.50),
        Row(
            "C3",
            "kubectl get --raw /version, plugin (warm cache)",
            medians["kubectl_exec"],
            "same, static token",
            medians["kubectl_static"],
            1.25,
        ),
    ]
    installed = "this venv (editable)" if options.in_place else "non-editable install"
    print(f"median of {options.runs} runs after {options.warmup} warm-up(s), wall ms; {installed}; kubectl: {kubectl}")
    header = f"{'id':<4} {'what':<48} {'value':>8} {'anchor':<20} {'anchor ms':>9} {'ratio':>6} {'target':>7}  result"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row.id:<4} {row.what:<48} {row.value:>8.1f} {row.anchor_what:<20} {row.anchor:>9.1f} "
            f"{row.ratio:>6.2f} {'<= ' + format(row.target, '.2f'):>7}  {'pass' if row.passed else 'FAIL'}"
        )
    return 0 if all(row.passed for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
