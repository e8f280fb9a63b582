"""The image's install steps, replayed from the Dockerfile into a fresh virtual environment.

No Docker daemon runs here. The ``image`` fixture (conftest.py, tests.support.deploy.build_image)
reads the Dockerfile, lays out the builder stage's COPYs (honouring WORKDIR and .dockerignore)
under a stand-in root directory, runs the builder's RUN (docker/install.sh wheels) and the
final stage's RUN (docker/install.sh runtime, with its bind mounts) with every image path moved
under that root: the same commands, the same files, in the same order as ``docker build``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from authenticator import __version__
from tests.support.deploy import REPO, Image

# Building every runtime wheel and compiling them takes a couple of minutes on a cold cache.
pytestmark = pytest.mark.timeout(900)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


TEST_ONLY = {"pytest", "pytest-timeout", "moto", "hypothesis", "awscli", "ruff", "trustme", "flask", "boto3"}


def _cli(image: Image, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    return subprocess.run(
        [str(image.venv / "bin" / "eks-iam-authenticator"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
        cwd=image.root,
    )


def test_the_installed_entrypoint_runs(image: Image) -> None:
    version = _cli(image, "version", "-o", "json")
    assert version.returncode == 0, version.stderr
    assert json.loads(version.stdout) == {"Version": __version__}
    helped = _cli(image, "--help")
    assert helped.returncode == 0, helped.stderr
    for command in ("token", "server", "init", "verify", "version"):
        assert command in helped.stdout


def test_the_entrypoint_runs_from_the_venv_not_the_work_tree(image: Image) -> None:
    # The installed package, not this checkout (an editable install would point back here).
    where = subprocess.run(
        [str(image.venv / "bin" / "python"), "-c", "import authenticator; print(authenticator.__file__)"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=image.root,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(image.venv)


def _installed(image: Image) -> set[str]:
    code = "import importlib.metadata as m, json; print(json.dumps([d.metadata['Name'] for d in m.distributions()]))"
    result = subprocess.run(
        [str(image.venv / "bin" / "python"), "-I", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return {_norm(n) for n in json.loads(result.stdout)}


def test_the_image_holds_runtime_dependencies_only(image: Image) -> None:
    installed = _installed(image)
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = {_norm(re.split(r"[\s\[<>=!~;]", d, maxsplit=1)[0]) for d in project["dependencies"]}
    assert "eks-iam-authenticator" in installed
    assert runtime <= installed
    assert not installed & {_norm(n) for n in TEST_ONLY}
    # No installer inside the running image.
    assert "pip" not in installed
    assert not (image.venv / "bin" / "pip").exists()


def test_the_builder_made_one_project_wheel(image: Image) -> None:
    ours = sorted(p.name for p in image.wheels.glob("eks_iam_authenticator-*.whl"))
    assert ours == [f"eks_iam_authenticator-{__version__}-py3-none-any.whl"]
    # Only what the runtime install consumed: no extras' wheels were built.
    names = {_norm(p.name.split("-")[0]) for p in image.wheels.glob("*.whl")}
    assert not names & {_norm(n) for n in TEST_ONLY}
