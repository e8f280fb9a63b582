"""Server tests: make the contract modules importable (TEMPORARY shim until they are on main)."""

try:
    import authenticator.mapping.chain
    import authenticator.token  # noqa: F401
except ImportError:
    import _contract_shim

    _contract_shim.install()
