"""The TokenReview webhook: configuration, HTTP app, review pipeline, TLS and kubeconfig files.

Submodules are imported by name (``authenticator.server.main`` and so on) so that importing
this package stays cheap.
"""
