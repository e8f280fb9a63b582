"""AA205 instance-profile-arn: an instance profile ARN instead of the node role.

What: ``rolearn: arn:aws:iam::739275461218:instance-profile/eks-nodes``.

Why: nodes call STS as the *role* inside the instance profile; the profile ARN never
matches and the nodes cannot join the cluster.

Fix: use the role ARN (``aws iam get-instance-profile --instance-profile-name <name>``
shows it); the names often differ.

Failing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:instance-profile/eks-nodes
        username: system:node:{{EC2PrivateDNSName}}
        groups:
          - system:bootstrappers
          - system:nodes

Passing example::

    mapRoles: |
      - rolearn: arn:aws:iam::739275461218:role/eks-node-role
        username: system:node:{{EC2PrivateDNSName}}
        groups:
          - system:bootstrappers
          - system:nodes
"""

from __future__ import annotations

from collections.abc import Iterator

from authenticator.lint.findings import Finding
from authenticator.lint.registry import RuleContext
from authenticator.lint.rules._common import arn_entries, is_instance_profile, mentions

ID = "AA205"
SLUG = "instance-profile-arn"
SEVERITY = "error"
SUMMARY = "an instance-profile ARN instead of its role never matches"


def check(ctx: RuleContext) -> Iterator[Finding]:
    if not mentions(ctx.target, ":instance-profile/"):
        return
    for entry, _, arn, node in arn_entries(ctx.target):
        if is_instance_profile(arn):
            yield ctx.at_node(
                entry.section,
                node,
                "this is an instance profile ARN: nodes authenticate as the role inside it, so this never matches",
                entry=entry,
                fix_hint="use the ARN of the role in the instance profile (aws iam get-instance-profile)",
            )
