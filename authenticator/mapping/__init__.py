"""Identity → Kubernetes user: the aws-auth model, parser, templates, sources and chain (docs/mapping.md).

Import the submodules themselves (``mapping.model``, ``mapping.awsauth``, ``mapping.chain``):
this package imports nothing, so the linter does not pay for the chain's asyncio imports.
"""
