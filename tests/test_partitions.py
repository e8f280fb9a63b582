import pytest

from authenticator.partitions import PARTITIONS, get_partition, partition_for_region, sts_host, sts_host_region


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("us-east-1", "aws"),
        ("eu-west-1", "aws"),
        ("mx-central-1", "aws"),
        ("cn-north-1", "aws-cn"),
        ("cn-northwest-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-iso-east-1", "aws-iso"),
        ("us-isob-east-1", "aws-iso-b"),
        ("eu-isoe-west-1", "aws-iso-e"),
        ("us-isof-south-1", "aws-iso-f"),
        ("eusc-de-east-1", "aws-eusc"),
    ],
)
def test_region_partition(region: str, partition: str) -> None:
    assert partition_for_region(region).name == partition


@pytest.mark.parametrize(
    ("region", "kwargs", "host"),
    [
        ("us-west-2", {}, "sts.us-west-2.amazonaws.com"),
        ("cn-north-1", {}, "sts.cn-north-1.amazonaws.com.cn"),
        ("us-gov-west-1", {}, "sts.us-gov-west-1.amazonaws.com"),
        ("us-east-1", {"fips": True}, "sts-fips.us-east-1.amazonaws.com"),
        ("us-east-1", {"dualstack": True}, "sts.us-east-1.api.aws"),
        ("cn-north-1", {"dualstack": True}, "sts.cn-north-1.api.amazonwebservices.com.cn"),
        ("us-east-1", {"use_global": True}, "sts.amazonaws.com"),
        ("cn-north-1", {"use_global": True}, "sts.cn-north-1.amazonaws.com.cn"),
        ("us-iso-east-1", {}, "sts.us-iso-east-1.c2s.ic.gov"),
        ("eusc-de-east-1", {}, "sts.eusc-de-east-1.amazonaws.eu"),
    ],
)
def test_sts_host(region: str, kwargs: dict[str, bool], host: str) -> None:
    assert sts_host(region, **kwargs) == host


def test_sts_host_rejects_bad_region_and_missing_dualstack() -> None:
    with pytest.raises(ValueError):
        sts_host("us-east-1.evil.com")
    with pytest.raises(ValueError):
        sts_host("us-iso-east-1", dualstack=True)


def test_every_regional_host_round_trips() -> None:
    for name, partition in PARTITIONS.items():
        region = {"aws": "us-east-1"}.get(name, partition.region_prefix + "east-1")
        for kwargs in ({}, {"fips": True}, {"dualstack": True}):
            if kwargs.get("dualstack") and partition.dualstack_domain is None:
                continue
            assert sts_host_region(sts_host(region, **kwargs), partition) == region


@pytest.mark.parametrize(
    ("host", "partition"),
    [
        ("website.amazonaws.com", "aws"),
        ("sts.amazonaws.com.cn", "aws-cn"),
        ("sts.us-west-2.amazonaws.com.cn", "aws"),
        ("sts.cn-north-1.amazonaws.com.cn", "aws"),
        ("google.com", "aws"),
        ("127.0.0.1", "aws"),
        ("sts.us-east-1.amazonaws.com.evil.com", "aws"),
        ("sts.us-east-1.amazonaws.com@evil.com", "aws"),
        ("sts.us-east-1.amazonaws.com.", "aws"),
        ("sts.us-east-1.amazonaws.com:443", "aws"),
        ("STS.us-east-1.amazonaws.com", "aws"),
        ("sts.US-EAST-1.amazonaws.com", "aws"),
        ("sts.amazonaws.com", "aws-cn"),
        ("sts.us-east-1.amazonaws.com", "aws-cn"),
        ("sts.-bad-.amazonaws.com", "aws"),
        ("sts..amazonaws.com", "aws"),
        ("sts.us-east-1.api.aws", "aws-iso"),
        ("ec2.us-east-1.amazonaws.com", "aws"),
    ],
)
def test_sts_host_region_rejects(host: str, partition: str) -> None:
    assert sts_host_region(host, get_partition(partition)) is None


def test_global_host_only_in_aws() -> None:
    assert sts_host_region("sts.amazonaws.com", get_partition("aws")) == "us-east-1"


def test_unknown_partition_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="aws-cn"):
        get_partition("aws-moon")
