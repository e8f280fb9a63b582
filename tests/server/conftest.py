"""Server tests: make authenticator.token importable (TEMPORARY shim until verifier is on main)."""

try:
    import authenticator.token  # noqa: F401
except ImportError:
    import _contract_shim

    _contract_shim.install()
