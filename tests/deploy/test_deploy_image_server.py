"""The webhook started from the image's venv, as the container starts it: the Dockerfile's
ENTRYPOINT + CMD, the DaemonSet's config.yaml at the path CMD names, the state directory as
the only writable place. It serves /healthz and /readyz over TLS, the HEALTHCHECK passes,
and nothing in the image's own files changes while it runs."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import stat
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.support.deploy import Image, fake_path, relocate, render

pytestmark = pytest.mark.timeout(900)

STARTUP_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tree(root: Path, skip: tuple[Path, ...]) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) of every file under ``root`` outside ``skip``."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if here / d not in skip]
        for name in filenames:
            st = (here / name).lstat()
            found[str(here / name)] = (st.st_size, st.st_mtime_ns)
    return found


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    port: int
    state: Path
    kubeconfig: Path
    healthcheck: list[str]
    log: Path
    image_files_before: dict[str, tuple[int, int]]
    writable: tuple[Path, ...]


def _healthcheck_argv(image: Image) -> list[str]:
    """The image's HEALTHCHECK command, run with the image's venv."""
    (check,) = image.final.all("HEALTHCHECK")
    argv = relocate(yaml.safe_load(check.text[check.text.index("CMD") + 3 :]), image.root)
    argv[0] = str(image.venv / "bin" / argv[0])  # "python" on the image's PATH
    return argv


def _healthcheck(argv: list[str], port: int, path: str = "/healthz") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HEALTHCHECK_URL": f"https://127.0.0.1:{port}{path}"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env)


def _wait_healthy(proc: subprocess.Popen[bytes], port: int, check: list[str], log: Path) -> None:
    """Run the image's own HEALTHCHECK until it passes; bounded, and fails early if the server exits.
    Each try is a process start, which paces the loop."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert proc.poll() is None, "server exited:\n" + log.read_text()
        if _healthcheck(check, port).returncode == 0:
            return
    raise AssertionError(f"not healthy within {STARTUP_SECONDS}s:\n" + log.read_text())


@pytest.fixture
def served(image: Image, tmp_path: Path) -> Iterator[Served]:
    final = image.final
    # The DaemonSet's configuration, with its volume paths moved under the stand-in root and the
    # cluster sources left out (no API server here).
    objects = render("overlays/daemonset")
    (configmap,) = [o for o in objects if o["kind"] == "ConfigMap"]
    config = yaml.safe_load(configmap["data"]["config.yaml"])
    server = config["server"]
    port = _free_port()
    state = fake_path(image.root, server["stateDir"])
    kubeconfig = fake_path(image.root, server["generateKubeconfig"])
    kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    server.update(
        port=port,
        stateDir=str(state),
        generateKubeconfig=str(kubeconfig),
        backendMode=["MountedFile"],
        mapUsers=[{"userarn": "arn:aws:iam::111122223333:user/alice", "username": "alice", "groups": ["devs"]}],
    )
    (entrypoint,) = [e.exec_form() for e in final.all("ENTRYPOINT")]
    (cmd,) = [c.exec_form() for c in final.all("CMD")]
    assert entrypoint and cmd
    config_path = fake_path(image.root, cmd[cmd.index("--config") + 1])
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(yaml.safe_dump(config))

    check_argv = _healthcheck_argv(image)

    tmp = fake_path(image.root, "/tmp")
    tmp.mkdir(exist_ok=True)
    (workdir,) = [w.text for w in final.all("WORKDIR")]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env |= {k: v for k, v in final.env().items() if k not in ("PATH", "VIRTUAL_ENV")}
    env |= {"HOME": str(state), "TMPDIR": str(tmp)}
    argv = [str(image.venv / "bin" / entrypoint[0]), *relocate(cmd, image.root)]
    log = tmp_path / "server.log"
    cwd = fake_path(image.root, workdir)
    cwd.mkdir(parents=True, exist_ok=True)  # made by the Dockerfile's `install -d`
    # The volumes of the DaemonSet (state, kubeconfig output, /tmp) are the only writable places.
    writable = (state, kubeconfig.parent, tmp)
    before = _tree(image.root, writable)
    with log.open("wb") as sink:
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    served = Served(proc, port, state, kubeconfig, check_argv, log, before, writable)
    try:
        yield served
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def test_server_from_the_image_venv_serves_tls(image: Image, served: Served) -> None:
    _wait_healthy(served.proc, served.port, served.healthcheck, served.log)

    # Verified TLS against the certificate the server made in its state directory.
    context = ssl.create_default_context(cafile=str(served.state / "cert.pem"))
    base = f"https://127.0.0.1:{served.port}"
    with urllib.request.urlopen(base + "/healthz", context=context, timeout=10) as health:
        assert (health.status, health.read()) == (200, b"ok")
    with urllib.request.urlopen(base + "/readyz", context=context, timeout=10) as ready:
        assert ready.status == 200
    with urllib.request.urlopen(base + "/metrics", context=context, timeout=10) as metrics:
        assert b"aws_iam_authenticator_authenticate_latency_seconds" in metrics.read()
    assert _healthcheck(served.healthcheck, served.port, "/readyz").returncode == 0

    assert stat.S_IMODE((served.state / "key.pem").stat().st_mode) == 0o600
    kubeconfig = yaml.safe_load(served.kubeconfig.read_text())
    assert kubeconfig["clusters"][0]["cluster"]["server"] == f"https://127.0.0.1:{served.port}/authenticate"

    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(timeout=30) == 0, served.log.read_text()
    # Read-only-root friendly: the image's files are as they were (no .pyc, no caches, no logs).
    assert _tree(image.root, served.writable) == served.image_files_before


# --- the Deployment variant: `init` once, every replica serves that certificate read-only ---


def _get_as(port: int, cafile: Path, server_name: str, path: str) -> bytes:
    """GET over TLS to 127.0.0.1, verifying the certificate for ``server_name`` as the API server
    (which dials the Service's clusterIP) would."""
    context = ssl.create_default_context(cafile=str(cafile))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=server_name) as tls,
    ):
        tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {server_name}\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := tls.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_deployment_serves_the_certificate_init_made(image: Image, tmp_path: Path) -> None:
    objects = render("overlays/deployment")
    (configmap,) = [o for o in objects if o["kind"] == "ConfigMap"]
    config = yaml.safe_load(configmap["data"]["config.yaml"])
    server = config["server"]
    cli = str(image.venv / "bin" / "eks-iam-authenticator")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env |= {k: v for k, v in image.final.env().items() if k not in ("PATH", "VIRTUAL_ENV")}

    # On the operator's machine: init with the Service's clusterIP (README, "Deploying the webhook").
    secret = tmp_path / "secret"
    made = subprocess.run(
        [cli, "init", "-i", config["clusterID"], "--hostname", server["hostname"], "--port", str(server["port"]),
         "--state-dir", str(secret)],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    webhook = yaml.safe_load((secret / "aws-iam-authenticator.kubeconfig").read_text())
    assert webhook["clusters"][0]["cluster"]["server"] == f"https://{server['hostname']}:{server['port']}/authenticate"
    cert_before = (secret / "cert.pem").read_bytes()
    files_before = sorted(p.name for p in secret.iterdir())

    # In the pod: the Secret's two files are the state directory.
    port = _free_port()
    server.update(stateDir=str(secret), backendMode=["MountedFile"])
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    # 0.0.0.0 is the pod's listen address; tests bind loopback only.
    argv = [cli, "server", "--config", str(config_path), "--address", "127.0.0.1", "--port", str(port)]
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    try:
        _wait_healthy(proc, port, _healthcheck_argv(image), log)
        answer = _get_as(port, secret / "cert.pem", server["hostname"], "/readyz")
        assert answer.startswith(b"HTTP/1.1 200"), answer
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    # kubeconfigPregenerated: the pod wrote nothing; the certificate is init's.
    assert (secret / "cert.pem").read_bytes() == cert_before
    assert sorted(p.name for p in secret.iterdir()) == files_before
