"""``aws-auth lint``: the aws-auth ConfigMap seen exactly as the authenticator sees it (docs/lint.md)."""
