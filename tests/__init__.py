"""The test suite; a package only so that ``tests.support`` is importable by its full name."""
