"""Mutation testing of the security core (docs/mutation.md): ``python -m tests.mutation``.

Not part of the test suite: pytest collects nothing here (no ``test_*.py``). ``plugin`` is the
pytest plugin mutmut loads (pyproject.toml ``[tool.mutmut]``); ``site/sitecustomize.py`` is what
a child process (the server, a console script) runs at start-up while mutmut collects which tests
reach which function.
"""
