"""{{EC2PrivateDNSName}} against moto's EC2 served on 127.0.0.1 (ThreadedMotoServer)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Protocol, cast

import botocore.session
import pytest
from prometheus_client import REGISTRY

from authenticator.mapping.chain import MappingChain, MappingDenied
from authenticator.mapping.ec2 import EC2PrivateDNSNameResolver
from authenticator.mapping.model import MappingSet, RoleMapping
from authenticator.mapping.templates import TemplateDenied
from tests.support.identities import role_identity

REGION = "us-west-2"
ACCOUNT = "123456789012"  # moto's default account


@pytest.fixture(scope="module")
def loader() -> Any:
    return botocore.session.Session().get_component("data_loader")


@pytest.fixture
def session(moto_url: str, loader: Any) -> botocore.session.Session:
    # No reset between tests: this module owns the server, and every test works on its own new instances
    # (a reset would make moto reload its AMI catalogue, seconds per test).
    s = botocore.session.Session()
    s.register_component("data_loader", loader)  # parsed service models are cached there (~1 s per ec2 client)
    s.set_credentials("AKIDTESTTESTTESTTEST", "secret-for-moto-only")
    s.set_config_variable("region", REGION)
    return s


class CallCounter:
    """Counts API calls as botocore sends them (independent of the resolver's own counter)."""

    def __init__(self, session: botocore.session.Session, event: str) -> None:
        self.count = 0
        self._lock = threading.Lock()
        session.register(event, self._hit)

    def _hit(self, **_: Any) -> None:
        with self._lock:
            self.count += 1


class _LaunchesInstances(Protocol):
    """The one EC2 call these tests make themselves: botocore builds it at run time and the
    project's test extra types only the clients the code calls (no mypy-boto3-ec2)."""

    def run_instances(self, **params: Any) -> dict[str, Any]: ...


def run_instances(session: botocore.session.Session, moto_url: str, count: int) -> dict[str, str]:
    ec2 = cast(_LaunchesInstances, session.create_client("ec2", region_name=REGION, endpoint_url=moto_url))
    # One of moto's built-in AMIs (listing them all takes seconds).
    answer = ec2.run_instances(ImageId="ami-03cf127a", MinCount=count, MaxCount=count, InstanceType="t3.micro")
    return {i["InstanceId"]: i["PrivateDnsName"] for i in answer["Instances"]}


def metric() -> float:
    return REGISTRY.get_sample_value("aws_iam_authenticator_ec2_describe_instances_calls_total") or 0.0


def test_100_concurrent_lookups_for_10_instances_are_batched(session: botocore.session.Session, moto_url: str) -> None:
    instances = run_instances(session, moto_url, 10)
    assert len(instances) == 10 and all(instances.values())
    counter = CallCounter(session, "before-call.ec2.DescribeInstances")
    resolver = EC2PrivateDNSNameResolver(session=session, region=REGION, endpoint_url=moto_url)
    before = metric()
    ids = [instance_id for instance_id in instances for _ in range(10)]

    async def lookups() -> list[str]:
        return await asyncio.gather(*(resolver(i) for i in ids))

    names = asyncio.run(lookups())
    assert names == [instances[i] for i in ids]
    assert 1 <= counter.count <= 10  # coalesced and batched: here, one call for all ten
    assert metric() == before + counter.count

    # Cached: no further calls.
    calls = counter.count
    again = asyncio.run(lookups())
    assert again == names
    assert counter.count == calls and metric() == before + calls


def test_more_ids_than_a_batch_and_bounded_calls(session: botocore.session.Session, moto_url: str) -> None:
    instances = run_instances(session, moto_url, 30)
    counter = CallCounter(session, "before-call.ec2.DescribeInstances")
    resolver = EC2PrivateDNSNameResolver(session=session, region=REGION, endpoint_url=moto_url, max_batch=8)

    async def lookups() -> list[str]:
        return await asyncio.gather(*(resolver(i) for i in instances))

    assert asyncio.run(lookups()) == list(instances.values())
    assert counter.count == 4  # ceil(30 / 8)


def test_unknown_instance_is_denied_and_others_still_resolve(session: botocore.session.Session, moto_url: str) -> None:
    instances = run_instances(session, moto_url, 2)
    resolver = EC2PrivateDNSNameResolver(session=session, region=REGION, endpoint_url=moto_url)
    known = next(iter(instances))

    async def lookups() -> tuple[str | BaseException, str | BaseException]:
        return await asyncio.gather(resolver(known), resolver("i-0123456789abcdef0"), return_exceptions=True)

    found, missing = asyncio.run(lookups())
    assert found == instances[known]
    assert isinstance(missing, TemplateDenied) and "not found" in missing.reason


def test_session_name_that_is_not_an_instance_id_is_denied_without_a_call() -> None:
    def factory() -> Any:
        raise AssertionError("no client needed")

    resolver = EC2PrivateDNSNameResolver(client_factory=factory)
    before = metric()
    with pytest.raises(TemplateDenied):
        asyncio.run(resolver("i-aaaaa"))
    assert metric() == before


def test_node_mapping_through_the_chain(session: botocore.session.Session, moto_url: str) -> None:
    instances = run_instances(session, moto_url, 1)
    instance_id, dns = next(iter(instances.items()))
    node_role = RoleMapping(
        username="system:node:{{EC2PrivateDNSName}}",
        groups=("system:bootstrappers", "system:nodes"),
        rolearn=f"arn:aws:iam::{ACCOUNT}:role/nodes",
    )

    class Static:
        name = "MountedFile"
        ready = True

        def snapshot(self) -> MappingSet:
            return MappingSet(roles=(node_role,))

    chain = MappingChain([Static()])
    resolver = EC2PrivateDNSNameResolver(session=session, region=REGION, endpoint_url=moto_url)
    user = asyncio.run(chain.map(role_identity("nodes", instance_id, account=ACCOUNT), ec2_private_dns_name=resolver))
    assert user.username == f"system:node:{dns}"
    with pytest.raises(MappingDenied):
        asyncio.run(
            chain.map(role_identity("nodes", "i-00000000000000000", account=ACCOUNT), ec2_private_dns_name=resolver)
        )


def test_assume_role_for_describe_instances(session: botocore.session.Session, moto_url: str) -> None:
    instances = run_instances(session, moto_url, 1)
    assumed = CallCounter(session, "before-call.sts.AssumeRole")
    resolver = EC2PrivateDNSNameResolver(
        session=session,
        region=REGION,
        endpoint_url=moto_url,
        sts_endpoint_url=moto_url,
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/describe-instances",
    )
    instance_id = next(iter(instances))
    assert asyncio.run(resolver(instance_id)) == instances[instance_id]
    assert assumed.count == 1


class _HangingEC2:
    """A DescribeInstances that never answers until released: what a peer cannot do on demand."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.in_flight = 0
        self.most_in_flight = 0
        self.calls: list[list[str]] = []
        self._lock = threading.Lock()

    def describe_instances(self, **params: Any) -> dict[str, Any]:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.calls.append(params["Filters"][0]["Values"])
        self.release.wait(30)
        with self._lock:
            self.in_flight -= 1
        return {"Reservations": []}


def test_timeout_denies_and_calls_in_flight_are_bounded() -> None:
    hanging = _HangingEC2()
    resolver = EC2PrivateDNSNameResolver(client_factory=lambda: hanging, timeout=0.2, max_in_flight=2)
    ids = [f"i-{n:017x}" for n in range(1, 8)]

    async def scenario() -> list[str | BaseException]:
        results: list[asyncio.Future[str]] = []
        try:
            for instance_id in ids:  # one at a time: each would be its own call if slots allowed
                results.append(asyncio.ensure_future(resolver(instance_id)))
                await asyncio.sleep(0)
                await asyncio.sleep(0)
            return await asyncio.gather(*results, return_exceptions=True)
        finally:
            hanging.release.set()  # let the worker threads finish before the loop closes

    results = asyncio.run(scenario())
    assert all(isinstance(r, TemplateDenied) and "timed out" in r.reason for r in results)
    assert hanging.most_in_flight <= 2
    assert sorted(i for batch in hanging.calls for i in batch) == sorted(ids[: sum(len(b) for b in hanging.calls)])


def test_a_resolver_survives_a_new_event_loop() -> None:
    class FakeEC2:
        def describe_instances(self, **params: Any) -> dict[str, Any]:
            ids = params["Filters"][0]["Values"]
            return {
                "Reservations": [{"Instances": [{"InstanceId": i, "PrivateDnsName": f"{i}.internal"} for i in ids]}]
            }

    resolver = EC2PrivateDNSNameResolver(client_factory=FakeEC2)
    before = metric()
    assert asyncio.run(resolver("i-00000001")) == "i-00000001.internal"
    assert asyncio.run(resolver("i-00000002")) == "i-00000002.internal"  # a second asyncio.run: new loop
    assert metric() == before + 2
