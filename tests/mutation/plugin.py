"""The pytest plugin of a mutation run (loaded by mutmut through ``pytest_add_cli_args``).

mutmut copies the code into ``mutants/`` (cwd of every test run) with every mutant compiled in,
and picks the live one from ``MUTANT_UNDER_TEST``. Children inherit that variable, but a console
script or ``python -m`` elsewhere would import the original tree: so every child gets
``mutants/`` first on its PYTHONPATH (the editable install's finder comes after it), and this
directory's ``site/`` for the hit recording of ``sitecustomize.py``. When a test ends, the
functions its children reached are added to the tests mutmut runs against their mutants.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_offsets: dict[Path, int] = {}


def pytest_configure(config: pytest.Config) -> None:
    if "MUTANT_UNDER_TEST" not in os.environ:
        return  # a plain pytest run that happened to load the plugin
    tree = Path.cwd().resolve()  # mutmut runs the tests from mutants/
    site = Path(__file__).resolve().parent / "site"
    paths = [str(tree), str(site), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    if os.environ["MUTANT_UNDER_TEST"] == "stats" and "MUTATION_HITS" not in os.environ:
        os.environ["MUTATION_HITS"] = tempfile.mkdtemp(prefix="mutation-hits-")


def _child_hits() -> set[str]:
    directory = os.environ.get("MUTATION_HITS")
    if not directory:
        return set()
    names: set[str] = set()
    for path in Path(directory).glob("*.hits"):
        start = _offsets.get(path, 0)
        with path.open("rb") as f:
            f.seek(start)
            data = f.read()
        complete = data[: data.rfind(b"\n") + 1]  # a line still being written waits for the next test
        _offsets[path] = start + len(complete)
        names.update(complete.decode().split())
    return names


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    yield  # after the fixtures' teardown, so a server's shutdown counts for the test that stops it
    if os.environ.get("MUTANT_UNDER_TEST") != "stats":
        return
    from mutmut.state import state

    nodeid = item.nodeid.removeprefix("mutants/")
    for name in _child_hits():
        state().tests_by_mangled_function_name[name].add(nodeid)
