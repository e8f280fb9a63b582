"""The kubectl exec credential plugin (``eks-iam-authenticator token``).

authenticator.cli, the binary's one entry point, parses the command line with this
package's flag table (client_plugin.flags) and runs client_plugin.cli: imports go from
there into this package. This package imports nothing from the server (signing reads the
shared partition table, authenticator.partitions); the cache-hit path imports only the stdlib.
"""
