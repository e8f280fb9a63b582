"""`eks-iam-authenticator demo` runs the whole flow and shows each answer."""

import re
import subprocess
import sys
from pathlib import Path


def test_demo_runs_the_whole_flow() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "authenticator", "demo"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # alice through mapUsers, bob's assumed-role session through mapRoles, mallory denied.
    assert '"username": "alice"' in out
    assert '"username": "admin:bob-example.com"' in out
    assert '"httpStatus": 403' in out
    assert "identity is not mapped" in out
    # kubectl is on every machine here (docs/testing.md): the whoami step must have run.
    assert "kubectl auth whoami" in out
    assert "system:authenticated" in out
    # A bearer token is never printed whole.
    assert "X-Amz-Signature" not in out
    for line in out.splitlines():
        assert not (line.strip().startswith("token k8s-aws-v1.") and "…" not in line)
    # Without --keep the demo's directory (named in the commands it shows) is removed.
    named = re.search(r"--kubeconfig (/\S+)/kubeconfig ", out)
    assert named and not Path(named.group(1)).exists()
