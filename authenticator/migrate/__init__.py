"""``aws-auth migrate``: from the aws-auth ConfigMap to EKS access entries (docs/access-entries.md)."""
