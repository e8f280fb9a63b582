"""eks-iam-authenticator: the webhook, its verifier, mapping and linter.

This package's ``__init__`` stays free of imports: the token plugin imports
``authenticator.partitions`` on its fast path.
"""

__version__ = "0.1.0"
