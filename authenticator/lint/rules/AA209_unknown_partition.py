"""AA209 unknown-partition: the ARN's partition is not an AWS partition.

What: ``arn:aws-us-east-1:iam::...``, ``arn:amazon:iam::...``, ``arn:aws-gov:iam::...``.

Why: callers' ARNs always carry one of the eight partitions (aws, aws-cn, aws-us-gov,
aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc): this entry never matches.

Fix: use the partition of the account, usually ``aws``.

Failing example::

    mapRoles: |
      - rolearn: arn:aws-us-east-1:iam::739275461218:role/eks-admins
        username: admin
        groups:
          - eks-admins

Passing example::

    mapRoles: |
      - rolearn: arn:aws-us-gov:iam::739275461218:role/eks-admins
        username: admin
        groups:
          - eks-admins
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import arn_entries, arn_facts, bad_partition
from authenticator.partitions import PARTITIONS

ID = "AA209"
SLUG = "unknown-partition"
SEVERITY = "error"
SUMMARY = "the ARN's partition is not one of the eight AWS partitions"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for entry, _, arn, node in arn_entries(ctx.target):
        if bad_partition(arn):
            yield ctx.at_node(
                entry.section,
                node,
                f"partition {arn_facts(arn).partition!r} is not an AWS partition: this never matches",
                entry=entry,
                fix_hint=f"use one of {', '.join(PARTITIONS)}",
            )
