"""``aws-auth migrate``: the move from the aws-auth ConfigMap to EKS access entries.

``source`` reads the entries the server would serve, ``classify`` says what each becomes,
``plan`` builds the rows (pure; the cluster and IAM are injected), ``formats`` writes them,
``apply`` and ``verify`` talk to the cluster, ``access`` answers ``aws-auth resolve --mode``;
``cluster`` and ``iam`` read EKS and IAM through botocore; ``cli`` wires the command.
"""
