"""The image's install steps, replayed from the Dockerfile into a fresh virtual environment.

No Docker daemon runs here. The fixture reads the Dockerfile, lays out the builder stage's
COPYs (honouring WORKDIR and .dockerignore) under a stand-in root directory, runs the
builder's RUN (docker/install.sh wheels) and the final stage's RUN (docker/install.sh runtime,
with its bind mounts) with every image path moved under that root, and hands the tests the
resulting venv: the same commands, the same files, in the same order as ``docker build``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from deploy_support import REPO, Stage, copy_into, fake_path, mount_options, parse_dockerfile

from authenticator import __version__

# Building every runtime wheel and compiling them takes a couple of minutes on a cold cache.
pytestmark = pytest.mark.timeout(900)

TEST_ONLY = {"pytest", "pytest-timeout", "moto", "respx", "hypothesis", "awscli", "ruff", "trustme", "flask", "boto3"}


@dataclass(frozen=True)
class Image:
    root: Path  # the stand-in for the image's /
    venv: Path  # VIRTUAL_ENV of the final stage, under root
    wheels: Path  # the builder's wheel directory, under root


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _install_run(stage: Stage, step: str) -> tuple[list[str], list[str]]:
    """(argv, --mount flags) of the stage's one RUN that calls ``install.sh <step>``."""
    runs = [r for r in stage.all("RUN") if (argv := r.exec_form()) and step in argv]
    assert len(runs) == 1, f"one exec-form RUN calling install.sh {step} expected"
    argv = runs[0].exec_form()
    assert argv is not None
    return argv, [f for f in runs[0].flags() if f.startswith("--mount=")]


def _relocate(argv: list[str], root: Path) -> list[str]:
    # /bin/sh is this machine's shell; every other absolute path is a path inside the image.
    return [a if a == "/bin/sh" or not a.startswith("/") else str(fake_path(root, a)) for a in argv]


def _stage_env(stage: Stage) -> dict[str, str]:
    # PATH and VIRTUAL_ENV name image paths; the commands are given with explicit paths instead.
    env = {k: v for k, v in stage.env().items() if k not in ("PATH", "VIRTUAL_ENV")}
    return {**os.environ, **env, "PYTHON": sys.executable}


def _run_step(argv: list[str], env: dict[str, str], cwd: Path) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=800)
    assert result.returncode == 0, f"{argv}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    root = tmp_path_factory.mktemp("image-root")
    _, (builder, final) = parse_dockerfile()

    # Builder stage: the COPYs, then `install.sh wheels`.
    copy_into(builder, root)
    argv, mounts = _install_run(builder, "wheels")
    assert not mounts
    workdir = fake_path(root, builder.all("WORKDIR")[-1].text)
    _run_step(_relocate(argv, root), _stage_env(builder), workdir)

    # Final stage: its bind mounts, then `install.sh runtime`.
    argv, mounts = _install_run(final, "runtime")
    for flag in mounts:
        options = mount_options(flag)
        assert options["type"] == "bind"
        if "from" in options:
            # Same root for both stages: the builder's output already sits at the target.
            assert options["from"] == "builder" and options["source"] == options["target"]
        else:
            target = fake_path(root, options["target"])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / options["source"], target)
    _run_step(_relocate(argv, root), _stage_env(final), root)

    venv = fake_path(root, final.env()["VIRTUAL_ENV"])
    wheels = fake_path(root, argv[argv.index("runtime") + 1])
    return Image(root=root, venv=venv, wheels=wheels)


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
