"""eks-iam-authenticator: the webhook, its verifier, mapping and linter.

This package's ``__init__`` stays free of imports: ``authenticator.cli``, the entry point
of the ``eks-iam-authenticator`` binary, is on the token plugin's cache-hit path, which
imports only the standard library.
"""

__version__ = "0.1.0"
