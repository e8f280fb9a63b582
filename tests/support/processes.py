"""The real ``server`` as a child process, for the tests and the benchmarks.

``ServerProcess`` runs ``eks-iam-authenticator server`` and reads its output on a thread, so a test
waits for a line with a bound; ``Webhook`` adds what the reliability tests and bench/server.py need
(a client that trusts its certificate, signals, /metrics); ``config_text`` is a MountedFile config
pointing at an STS stand-in.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Self

import httpx

from authenticator.demo.runner import free_port as free_port  # re-exported for the tests
from tests.support.tokens import WEBHOOK_CLUSTER

BOUND_SECONDS = 30  # how long a test waits for anything before it fails
V1 = "authentication.k8s.io/v1"

STARTUP_SECONDS = 30


class ChildProcess:
    """A command line as a child process; its output (stderr, and stdout too with ``with_stdout``)
    is read by a thread so tests can wait for a line with a bound instead of sleeping."""

    def __init__(
        self,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        with_stdout: bool = False,
    ) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._seen_lock = threading.Lock()
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE if with_stdout else subprocess.DEVNULL,
            stderr=subprocess.STDOUT if with_stdout else subprocess.PIPE,
            text=True,
            env=env,
            cwd=cwd,
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        stream = self.proc.stdout if self.proc.stdout is not None else self.proc.stderr
        assert stream is not None
        for line in stream:
            self.lines.put(line)
        self.lines.put("")  # end of output

    def _next_line(self, timeout: float) -> str | None:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return None
        with self._seen_lock:
            self.seen.append(line)
        return line

    def wait_for(self, text: str) -> None:
        """Block until an output line contains ``text``; bounded, fails if the process ends first."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            line = self._next_line(left)
            if line is None:
                break
            if text in line:
                return
            assert line != "", "the process exited:\n" + "".join(self.seen)
        raise AssertionError(f"no {text!r} within {STARTUP_SECONDS}s:\n" + "".join(self.seen))

    def rest(self) -> str:
        """Everything it wrote, once it has exited."""
        self.proc.wait(timeout=STARTUP_SECONDS)
        while self._next_line(STARTUP_SECONDS) not in ("", None):
            pass
        with self._seen_lock:
            return "".join(self.seen)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)


class ServerProcess(ChildProcess):
    """``eks-iam-authenticator -l json [-v LEVEL] server -c CONFIG --port PORT --state-dir STATE``."""

    def __init__(
        self,
        config: Path,
        state: Path,
        port: int | None = None,
        *,
        verbosity: str | None = None,
        env: dict[str, str] | None = None,
        with_stdout: bool = False,
    ) -> None:
        self.port = port or free_port()
        self.state = state
        args = ["-l", "json", *(["-v", verbosity] if verbosity else []), "server", "-c", str(config)]
        args += ["--port", str(self.port), "--state-dir", str(state)]
        super().__init__([sys.executable, "-m", "authenticator", *args], env=env, with_stdout=with_stdout)


def review_body(token: str) -> dict[str, Any]:
    return {"apiVersion": V1, "kind": "TokenReview", "spec": {"token": token}}


def config_text(sts_url: str, ca_path: Path | str, mapped_arn: str, **server: object) -> str:
    """A MountedFile config mapping ``mapped_arn`` to user ``mapped`` (group ``devs``); ``server``
    adds keys of the ``server:`` section (e.g. ``stsTimeout=1``)."""
    lines = [
        f"clusterID: {WEBHOOK_CLUSTER}",
        "server:",
        f"  stsEndpointOverride: {sts_url}",
        f"  stsCABundle: {ca_path}",
        f"  mapUsers: [{{userarn: '{mapped_arn}', username: mapped, groups: [devs]}}]",
    ]
    lines += [f"  {key}: {value}" for key, value in server.items()]
    return "\n".join(lines) + "\n"


def metric_sum(exposition: str, name: str) -> float:
    """The sum of the samples (all labels) of ``aws_iam_authenticator_<name>`` in a /metrics text."""
    pattern = re.compile(rf"^aws_iam_authenticator_{re.escape(name)}(?:\{{[^}}]*\}})? (\S+)$", re.M)
    return sum(float(v) for v in pattern.findall(exposition))


class Webhook(ServerProcess):
    """``eks-iam-authenticator -l json -v LEVEL server -c CONFIG`` as a child process on 127.0.0.1,
    without the caller's AWS_ variables; stderr and stdout are collected (``output()``: stdout must
    stay empty of secrets too), and a client is ready once it serves."""

    def __init__(self, config: Path, state: Path, *, verbosity: str = "info") -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        super().__init__(config, state, verbosity=verbosity, env=env, with_stdout=True)
        self._terminating = False
        self.wait_for("serving the webhook")
        self.client = self.new_client()

    def new_client(self, timeout: float = BOUND_SECONDS) -> httpx.Client:
        ca = ssl.create_default_context(cafile=str(self.state / "cert.pem"))
        return httpx.Client(base_url=f"https://127.0.0.1:{self.port}", verify=ca, timeout=timeout)

    def review(self, token: str, client: httpx.Client | None = None) -> httpx.Response:
        return (client or self.client).post("/authenticate", json=review_body(token))

    def review_alone(self, token: str) -> httpx.Response:
        """One review on a connection of its own, closed once answered (for concurrent reviews)."""
        with self.new_client() as client:
            response = self.review(token, client)
            response.read()
            return response

    def metric(self, name: str) -> float:
        """The sum of a metric's samples (all labels) on /metrics."""
        return metric_sum(self.client.get("/metrics").text, name)

    def begin_shutdown(self) -> None:
        """SIGTERM, and wait until uvicorn has closed its listening socket and waits for the
        connections it holds. Our idle keep-alive connection is closed first: a sync httpx client
        never reads the server's TLS close_notify, so uvicorn would wait for it until its graceful
        timeout (a Go client, like the API server's, reads it at once)."""
        self.client.close()
        self.proc.send_signal(signal.SIGTERM)
        self._terminating = True
        self.wait_for("Waiting for connections to close")

    def terminate(self) -> int:
        """SIGTERM (once: a second one forces uvicorn out), then the exit code (bounded wait)."""
        if not self._terminating:
            self.client.close()
            self.proc.send_signal(signal.SIGTERM)
            self._terminating = True
        return self.proc.wait(timeout=BOUND_SECONDS)

    def output(self) -> str:
        """Everything the process wrote, once it has exited."""
        return self.rest()

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        super().__exit__(*exc)
