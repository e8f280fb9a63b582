"""The TokenReview webhook: configuration, HTTP app, review pipeline, TLS and kubeconfig files.

Submodules are imported by name (``authenticator.server.commands`` and so on) so that importing
this package stays cheap.
"""
