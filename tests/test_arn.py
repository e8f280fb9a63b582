"""docs/token.md §6: ARN parsing and canonicalisation."""

from __future__ import annotations

import pytest

from authenticator.arn import Arn, canonicalize, parse_arn, principal_kind
from authenticator.partitions import PARTITIONS


def test_parse_arn_fields() -> None:
    assert parse_arn("arn:aws:iam::123456789012:role/path/to/r") == Arn(
        "aws", "iam", "", "123456789012", "role/path/to/r"
    )
    assert str(parse_arn("arn:aws-cn:sts::1:assumed-role/r/s")) == "arn:aws-cn:sts::1:assumed-role/r/s"
    # Colons past the fifth belong to the resource.
    assert parse_arn("arn:aws:iam::1:user/a:b").resource == "user/a:b"


@pytest.mark.parametrize(
    ("arn", "canonical"),
    [
        ("arn:aws:iam::123456789012:user/Alice", "arn:aws:iam::123456789012:user/Alice"),
        ("arn:aws:iam::123456789012:user/path/Alice", "arn:aws:iam::123456789012:user/path/Alice"),
        ("arn:aws:iam::123456789012:role/Admin", "arn:aws:iam::123456789012:role/Admin"),
        ("arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:root"),
        ("arn:aws:sts::123456789012:federated-user/Bob", "arn:aws:sts::123456789012:federated-user/Bob"),
        ("arn:aws:sts::123456789012:assumed-role/Admin/jdoe", "arn:aws:iam::123456789012:role/Admin"),
        (
            "arn:aws:sts::123456789012:assumed-role/Admin/jdoe@example.com",
            "arn:aws:iam::123456789012:role/Admin",
        ),
        # Only the last segment, the session, is dropped; the rest is kept as the reference does.
        ("arn:aws:sts::123456789012:assumed-role/team/dev/Admin/s", "arn:aws:iam::123456789012:role/team/dev/Admin"),
        (
            "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/jdoe",
            "arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_0123456789abcdef",
        ),
        ("arn:aws-cn:sts::123456789012:assumed-role/R/s", "arn:aws-cn:iam::123456789012:role/R"),
        ("arn:aws-us-gov:sts::123456789012:assumed-role/R/s", "arn:aws-us-gov:iam::123456789012:role/R"),
        # No lower-casing.
        ("arn:aws:sts::123456789012:assumed-role/MiXeD/S", "arn:aws:iam::123456789012:role/MiXeD"),
    ],
)
def test_canonicalize(arn: str, canonical: str) -> None:
    assert canonicalize(arn) == canonical


@pytest.mark.parametrize("partition", sorted(PARTITIONS))
def test_all_eight_partitions(partition: str) -> None:
    assert canonicalize(f"arn:{partition}:sts::1:assumed-role/R/s") == f"arn:{partition}:iam::1:role/R"


@pytest.mark.parametrize(
    "arn",
    [
        "",
        "arn",
        "arn:aws:iam::123456789012",
        "xrn:aws:iam::123456789012:user/Alice",
        "arn:aws-foo:iam::123456789012:user/Alice",
        "arn:AWS:iam::123456789012:user/Alice",
        "arn:aws:s3:::bucket",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-1",
        "arn:aws:iam::123456789012:group/devs",
        "arn:aws:iam::123456789012:policy/p",
        "arn:aws:iam::123456789012:user/",
        "arn:aws:iam::123456789012:role",
        "arn:aws:iam::123456789012:rootx",
        "arn:aws:iam:::user/Alice",
        "arn:aws:sts::123456789012:assumed-role/Admin",
        "arn:aws:sts::123456789012:assumed-role//s",
        "arn:aws:sts::123456789012:assumed-role/Admin/",
        "arn:aws:sts::123456789012:federated-user",
        "arn:aws:sts::123456789012:user/Alice",
        "arn::iam::123456789012:user/Alice",
    ],
)
def test_rejected(arn: str) -> None:
    with pytest.raises(ValueError):
        canonicalize(arn)


@pytest.mark.parametrize(
    ("arn", "kind"),
    [
        ("arn:aws:iam::1:root", "root"),
        ("arn:aws:iam::1:user/u", "user"),
        ("arn:aws:iam::1:role/r", "role"),
        ("arn:aws:sts::1:assumed-role/r/s", "assumed-role"),
        ("arn:aws:sts::1:federated-user/f", "federated-user"),
    ],
)
def test_principal_kind(arn: str, kind: str) -> None:
    assert principal_kind(arn) == kind
