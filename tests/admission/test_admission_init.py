"""``eks-iam-authenticator init --admission``: the guard's webhook configuration beside the
webhook kubeconfig, trusting the certificate init wrote (a console script, as users run it)."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import yaml


def _init(state: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("eks-iam-authenticator")
    assert exe is not None
    argv = [
        exe,
        "init",
        "-i",
        "test-cluster",
        "--state-dir",
        str(state),
        "--hostname",
        "10.96.0.21",
        "--port",
        "21362",
        *extra,
    ]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_init_writes_the_guard_only_when_asked(tmp_path: Path) -> None:
    plain = _init(tmp_path / "plain")
    assert plain.returncode == 0, plain.stderr
    assert not (tmp_path / "plain" / "aws-auth-guard.yaml").exists()
    assert "--admission" not in plain.stdout

    done = _init(tmp_path / "guard", "--admission")
    assert done.returncode == 0, done.stderr
    path = tmp_path / "guard" / "aws-auth-guard.yaml"
    assert f"kubectl apply -f {path}" in done.stdout
    assert "--kubeconfig-pregenerated --admission" in done.stdout
    (hook,) = yaml.safe_load(path.read_text())["webhooks"]
    assert hook["clientConfig"]["url"] == "https://10.96.0.21:21362/validate/aws-auth"
    cert = (tmp_path / "guard" / "cert.pem").read_bytes()
    assert base64.b64decode(hook["clientConfig"]["caBundle"]) == cert
    # the kubeconfig trusts the same certificate
    kubeconfig = yaml.safe_load((tmp_path / "guard" / "aws-iam-authenticator.kubeconfig").read_text())
    assert kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"] == hook["clientConfig"]["caBundle"]
