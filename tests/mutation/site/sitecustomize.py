"""Loaded at start-up by every Python child of a test during a mutation run (the plugin puts
this directory on PYTHONPATH).

While mutmut records which tests reach which function (``MUTANT_UNDER_TEST=stats``), a function
that only runs in a child process (the server started as a process, a console script) would be
recorded by that child and lost with it: mutmut would never run the process tests against its
mutants. Here each trampoline hit of the child is appended to a file the plugin reads when the
test ends. Outside that phase this file does nothing: the child sees the mutant because it
imports the mutated tree and inherits ``MUTANT_UNDER_TEST``.
"""

import os

_HITS = os.environ.get("MUTATION_HITS")

if _HITS and os.environ.get("MUTANT_UNDER_TEST") == "stats":
    from mutmut.mutation import trampoline

    _fd = os.open(os.path.join(_HITS, f"{os.getpid()}.hits"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def _record(name: str, caller: str | None = None) -> None:
        # One write per hit, unbuffered: a server stopped by a signal loses nothing.
        os.write(_fd, f"{name}\n".encode())

    # The trampoline calls the name it imported from mutmut.stats: replace it in the trampoline's
    # namespace (not an attribute mutmut exports), checking it is there so a mutmut that renames it
    # fails here rather than recording nothing.
    _namespace = vars(trampoline)
    assert "record_trampoline_hit" in _namespace
    _namespace["record_trampoline_hit"] = _record
