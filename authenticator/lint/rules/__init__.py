"""One module per rule: ``AA202_role_arn_has_path.py`` and so on (see authenticator.lint.registry)."""
