"""ARN parsing and canonicalisation of STS identities (docs/token.md §6).

Canonical form folds an assumed-role session into the IAM role it came from, so
that mappings can name the role. Nothing is lower-cased here; mappings compare
case-insensitively.
"""

from __future__ import annotations

from dataclasses import dataclass

from authenticator.partitions import PARTITIONS

__all__ = ["Arn", "canonicalize", "parse_arn", "principal_kind"]


@dataclass(frozen=True, slots=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def parse_arn(text: str) -> Arn:
    """Split ``arn:partition:service:region:account:resource``; ``ValueError`` if malformed.

    Only the eight partitions of docs/token.md §2 are accepted. The resource keeps any
    further ``:`` (as in the AWS SDKs).
    """
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise ValueError(f"arn {text!r} is invalid: not arn:partition:service:region:account:resource")
    _, partition, service, region, account, resource = parts
    if partition not in PARTITIONS:
        raise ValueError(f"arn {text!r} does not have a recognized partition")
    if not service:
        raise ValueError(f"arn {text!r} is invalid: empty service")
    if not resource:
        raise ValueError(f"arn {text!r} is invalid: empty resource")
    return Arn(partition, service, region, account, resource)


def canonicalize(arn: str) -> str:
    """The ARN mappings are matched against; ``ValueError`` for non-identity ARNs.

    - ``arn:<p>:sts::<acct>:assumed-role/<role…>/<session>`` → ``arn:<p>:iam::<acct>:role/<role…>``
      (only the last segment, the session, is dropped, as in the reference);
    - ``iam`` ``user/…``, ``role/…``, ``root`` and ``sts`` ``federated-user/…``: unchanged.
    """
    parsed = parse_arn(arn)
    if not parsed.account:
        raise ValueError(f"arn {arn!r} has no account")
    segments = parsed.resource.split("/")
    kind = segments[0]
    if parsed.service == "sts":
        if kind == "federated-user" and len(segments) >= 2 and segments[-1]:
            return arn
        if kind == "assumed-role":
            if len(segments) < 3 or not all(segments[1:]):
                raise ValueError(f"assumed-role arn {arn!r} does not have a role and a session")
            role = "/".join(segments[1:-1])
            return f"arn:{parsed.partition}:iam::{parsed.account}:role/{role}"
        raise ValueError(f"unrecognized resource {parsed.resource!r} for service sts")
    if parsed.service == "iam":
        if parsed.resource == "root":
            return arn
        if kind in ("user", "role") and len(segments) >= 2 and segments[-1]:
            return arn
        raise ValueError(f"unrecognized resource {parsed.resource!r} for service iam")
    raise ValueError(f"service {parsed.service!r} in arn {arn!r} is not a valid service for identities")


def principal_kind(arn: str) -> str:
    """One of ``root``, ``user``, ``role``, ``assumed-role``, ``federated-user`` for a valid identity ARN."""
    canonicalize(arn)  # raises for anything else
    parsed = parse_arn(arn)
    return parsed.resource.split("/")[0]
