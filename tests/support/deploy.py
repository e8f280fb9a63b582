"""Shared pieces of the deploy tests: the Dockerfile read as data, .dockerignore matching,
the plain kubectl binary, and rendered kustomize output.

No Docker daemon runs here, so the Dockerfile is read as a list of instructions and the tests
replay the parts that matter (its COPYs and its install steps) on this machine.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
DEPLOY = REPO / "config" / "deploy"
KUSTOMIZATIONS = ("base", "overlays/daemonset", "overlays/deployment")
OVERLAYS = ("overlays/daemonset", "overlays/deployment")


# --- Dockerfile ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    text: str  # everything after the keyword, continuations joined

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form RUN/CMD/ENTRYPOINT (after any --flags), else None."""
        rest = self.text
        while rest.startswith("--"):
            _, _, rest = rest.partition(" ")
            rest = rest.lstrip()
        if not rest.startswith("["):
            return None
        value = json.loads(rest)
        assert isinstance(value, list)
        return [str(v) for v in value]

    def flags(self) -> list[str]:
        """Leading ``--name=value`` flags (``RUN --mount=...``, ``COPY --from=...``)."""
        found = []
        for word in shlex.split(self.text):
            if not word.startswith("--"):
                break
            found.append(word)
        return found


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for inst in self.all("ENV"):
            for word in shlex.split(inst.text):
                key, sep, value = word.partition("=")
                assert sep, f"ENV in the legacy 'KEY value' form: {inst.text}"
                values[key] = value
        return values


def parse_dockerfile(path: Path = DOCKERFILE) -> tuple[dict[str, str], list[Stage]]:
    """(ARGs before the first FROM, stages). Enough of the syntax for this project's Dockerfile:
    comments, backslash continuations, ``FROM image AS name``, ``${ARG}`` in FROM."""
    lines: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):  # also inside a continuation, as Docker does
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1].strip() + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    assert not pending, "the Dockerfile ends in a continuation"

    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in lines:
        keyword, _, text = line.partition(" ")
        keyword, text = keyword.upper(), text.strip()
        if keyword == "ARG" and not stages:
            name, _, default = text.partition("=")
            global_args[name] = default
        elif keyword == "FROM":
            words = text.split()
            base = words[0]
            for name, value in global_args.items():
                base = base.replace("${" + name + "}", value).replace("$" + name, value)
            alias = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=base, name=alias))
        else:
            assert stages, f"{keyword} before FROM"
            stages[-1].instructions.append(Instruction(keyword, text))
    return global_args, stages


def mount_options(flag: str) -> dict[str, str]:
    """``--mount=type=bind,from=builder,source=/wheels,target=/wheels`` -> its options."""
    assert flag.startswith("--mount="), flag
    return dict(part.split("=", 1) for part in flag.removeprefix("--mount=").split(","))


# --- .dockerignore ------------------------------------------------------------------------


def _dockerignore_patterns(root: Path = REPO) -> list[tuple[bool, str]]:
    patterns = []
    for raw in (root / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = os.path.normpath(line.removeprefix("!").strip()).lstrip("/")
        patterns.append((negated, pattern))
    return patterns


def _pattern_matches(pattern: str, path: str) -> bool:
    # Docker's rules: a pattern matches the path or any of its parent directories; "*" stays
    # inside one path segment, "**" spans any number of them.
    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    return any(_glob(pattern.split("/"), c.split("/")) for c in candidates)


def _glob(pattern: list[str], parts: list[str]) -> bool:
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_glob(pattern[1:], parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and _glob(pattern[1:], parts[1:])


def in_build_context(relative: str, root: Path = REPO) -> bool:
    """Whether ``docker build`` sends this repository file (path relative to the root)."""
    included = True
    for negated, pattern in _dockerignore_patterns(root):
        if _pattern_matches(pattern, relative):
            included = negated
    return included


def copy_into(stage: Stage, fake_root: Path, context: Path = REPO) -> None:
    """Replay a stage's plain ``COPY`` instructions (not ``--from``) into ``fake_root``, honouring
    WORKDIR and .dockerignore, as ``docker build`` would lay the files out."""
    workdir = "/"
    for inst in stage.instructions:
        if inst.keyword == "WORKDIR":
            workdir = str(PurePosixPath(workdir) / inst.text)
            continue
        if inst.keyword != "COPY" or any(f.startswith("--from") for f in inst.flags()):
            continue
        words = [w for w in shlex.split(inst.text) if not w.startswith("--")]
        *sources, dest = words
        dest_abs = PurePosixPath(workdir) / dest
        for source in sources:
            src = context / source
            if src.is_dir():
                for file in sorted(src.rglob("*")):
                    rel = file.relative_to(context).as_posix()
                    if file.is_file() and in_build_context(rel, context):
                        target = fake_path(fake_root, str(dest_abs / file.relative_to(src).as_posix()))
                        target.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(file, target)
            else:
                assert in_build_context(source, context), f"COPY {source}: excluded by .dockerignore"
                into_dir = dest.endswith("/") or len(sources) > 1
                target = fake_path(fake_root, str(dest_abs / src.name if into_dir else dest_abs))
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target)


def fake_path(fake_root: Path, image_path: str) -> Path:
    """Where an absolute path of the image lives under the test's stand-in root."""
    assert image_path.startswith("/"), image_path
    return fake_root / image_path.lstrip("/")


# --- kubectl and kustomize ----------------------------------------------------------------


def plain_kubectl() -> str:
    """The kubectl binary itself: the one on PATH may be a dispatcher that picks a version."""
    found = shutil.which("kubectl")
    assert found, "kubectl is not installed"
    beside = Path(found).resolve().parent / "kubectl.1.33"
    return str(beside) if beside.is_file() else found


def render(kustomization: str) -> list[dict[str, Any]]:
    """``kubectl kustomize`` of one directory under config/deploy, as a list of objects."""
    result = subprocess.run(
        [plain_kubectl(), "kustomize", str(DEPLOY / kustomization)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "KUBECONFIG": os.devnull},
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def one(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


# --- the image, replayed without Docker -----------------------------------------------------


@dataclass(frozen=True)
class Image:
    root: Path  # the stand-in for the image's /
    venv: Path  # VIRTUAL_ENV of the final stage, under root
    wheels: Path  # the builder's wheel directory, under root
    final: Stage  # the final stage, for its ENV, CMD, HEALTHCHECK ...


def _install_run(stage: Stage, step: str) -> tuple[list[str], list[str]]:
    """(argv, --mount flags) of the stage's one RUN that calls ``install.sh <step>``."""
    runs = [r for r in stage.all("RUN") if (argv := r.exec_form()) and step in argv]
    assert len(runs) == 1, f"one exec-form RUN calling install.sh {step} expected"
    argv = runs[0].exec_form()
    assert argv is not None
    return argv, [f for f in runs[0].flags() if f.startswith("--mount=")]


def relocate(argv: list[str], root: Path) -> list[str]:
    """An image command line for this machine: /bin/sh is this machine's shell; every other
    absolute path is a path inside the image, so it moves under ``root``."""
    return [a if a == "/bin/sh" or not a.startswith("/") else str(fake_path(root, a)) for a in argv]


def stage_env(stage: Stage, python: str) -> dict[str, str]:
    # PATH and VIRTUAL_ENV name image paths; the commands are given with explicit paths instead.
    env = {k: v for k, v in stage.env().items() if k not in ("PATH", "VIRTUAL_ENV")}
    return {**os.environ, **env, "PYTHON": python}


def _run_step(argv: list[str], env: dict[str, str], cwd: Path) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=800)
    assert result.returncode == 0, f"{argv}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def build_image(root: Path, python: str) -> Image:
    """Run the Dockerfile's install steps under ``root`` with ``python`` standing in for the
    base image's interpreter. The COPYs and bind mounts are laid out as ``docker build`` would."""
    _, (builder, final) = parse_dockerfile()

    # Builder stage: the COPYs, then `install.sh wheels`.
    copy_into(builder, root)
    argv, mounts = _install_run(builder, "wheels")
    assert not mounts
    workdir = fake_path(root, builder.all("WORKDIR")[-1].text)
    _run_step(relocate(argv, root), stage_env(builder, python), workdir)

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
    _run_step(relocate(argv, root), stage_env(final, python), root)
    # The rest of the final stage's files (the healthcheck script).
    copy_into(final, root)

    venv = fake_path(root, final.env()["VIRTUAL_ENV"])
    wheels = fake_path(root, argv[argv.index("runtime") + 1])
    return Image(root=root, venv=venv, wheels=wheels, final=final)
