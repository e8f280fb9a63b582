"""The kubectl exec credential plugin (``eks-iam-authenticator token``).

Imports nothing from the server; the cache-hit path imports only the stdlib.
"""
