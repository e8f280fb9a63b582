"""The one AWS partition table, shared by the token plugin and the verifier.

Stdlib only: the plugin imports this on its fast path and the server uses it to
check the host a token names (docs/token.md §2 and §4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "GLOBAL_STS_HOST",
    "PARTITIONS",
    "Partition",
    "get_partition",
    "partition_for_region",
    "sts_host",
    "sts_host_region",
]

GLOBAL_STS_HOST = "sts.amazonaws.com"

_REGION_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    region_prefix: str  # "" for the default partition, aws
    sts_domain: str
    dualstack_domain: str | None


PARTITIONS: dict[str, Partition] = {
    p.name: p
    for p in (
        Partition("aws", "", "amazonaws.com", "api.aws"),
        Partition("aws-cn", "cn-", "amazonaws.com.cn", "api.amazonwebservices.com.cn"),
        Partition("aws-us-gov", "us-gov-", "amazonaws.com", "api.aws"),
        Partition("aws-iso", "us-iso-", "c2s.ic.gov", None),
        Partition("aws-iso-b", "us-isob-", "sc2s.sgov.gov", None),
        Partition("aws-iso-e", "eu-isoe-", "cloud.adc-e.uk", None),
        Partition("aws-iso-f", "us-isof-", "csp.hci.ic.gov", None),
        Partition("aws-eusc", "eusc-", "amazonaws.eu", "api.amazonwebservices.eu"),
    )
}

# Longest prefix first so that "us-isob-" is not taken for "us-iso-".
_BY_PREFIX = sorted(
    (p for p in PARTITIONS.values() if p.region_prefix),
    key=lambda p: len(p.region_prefix),
    reverse=True,
)


def get_partition(name: str) -> Partition:
    """The partition called ``name``; ``KeyError`` names the known ones."""
    try:
        return PARTITIONS[name]
    except KeyError:
        known = ", ".join(PARTITIONS)
        raise KeyError(f"unknown partition {name!r} (known: {known})") from None


def partition_for_region(region: str) -> Partition:
    """The partition a region belongs to, by the shape of its name."""
    for partition in _BY_PREFIX:
        if region.startswith(partition.region_prefix):
            return partition
    return PARTITIONS["aws"]


def sts_host(
    region: str,
    *,
    fips: bool = False,
    dualstack: bool = False,
    use_global: bool = False,
) -> str:
    """The STS host a token for ``region`` must name.

    ``use_global`` asks for the legacy global endpoint, which exists only in the
    aws partition; elsewhere the regional host is used.
    """
    if not _REGION_LABEL.match(region):
        raise ValueError(f"invalid region name {region!r}")
    partition = partition_for_region(region)
    if use_global and partition.name == "aws" and not (fips or dualstack):
        return GLOBAL_STS_HOST
    domain = partition.sts_domain
    if dualstack:
        if partition.dualstack_domain is None:
            raise ValueError(f"partition {partition.name} has no dual-stack STS endpoint")
        domain = partition.dualstack_domain
    service = "sts-fips" if fips else "sts"
    return f"{service}.{region}.{domain}"


def sts_host_region(host: str, partition: Partition) -> str | None:
    """The region of an STS host that belongs to ``partition``, else ``None``.

    The host is compared exactly as written: no lower-casing, no port, no trailing
    dot. The global host answers ``us-east-1`` (where it signs) in partition aws.
    """
    if host == GLOBAL_STS_HOST:
        return "us-east-1" if partition.name == "aws" else None
    service, sep, rest = host.partition(".")
    if not sep or service not in ("sts", "sts-fips"):
        return None
    region, sep, domain = rest.partition(".")
    if not sep or not _REGION_LABEL.match(region):
        return None
    if domain not in (partition.sts_domain, partition.dualstack_domain):
        return None
    if partition_for_region(region) is not partition:
        return None
    return region
