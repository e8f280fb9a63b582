"""The STS stand-in's load features that S2/S2b rely on (docs/performance.md): it throttles above
``throttle_rate`` ok answers per second, and it measures the calls it holds at once itself."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import httpx

from tests.support.sts_standin import StsStandIn

TARGET = "/?Action=GetCallerIdentity&Version=2011-06-15"


def _stats(client: httpx.Client) -> dict[str, int]:
    answer: dict[str, int] = client.get("/_stats").json()
    return answer


def test_throttles_above_the_rate_within_one_second(tmp_path: Path) -> None:
    now = [100.0]
    with (
        StsStandIn(tmp_path, throttle_rate=3, clock=lambda: now[0]) as sts,
        httpx.Client(
            base_url=sts.url, verify=ssl.create_default_context(cafile=str(sts.ca_path)), timeout=30
        ) as client,
    ):
        first = [client.get(TARGET).status_code for _ in range(5)]
        assert first == [200, 200, 200, 400, 400]
        assert b"<Code>Throttling</Code>" in client.get(TARGET).content
        now[0] += 0.5  # still within the second of the three ok answers
        assert client.get(TARGET).status_code == 400
        now[0] += 0.6  # they are now more than a second old
        assert [client.get(TARGET).status_code for _ in range(4)] == [200, 200, 200, 400]
        assert _stats(client)["throttled"] == 5
        assert client.get("/_reset").json()["throttled"] == 0


def test_in_flight_max_is_what_it_held_at_once(tmp_path: Path) -> None:
    with StsStandIn(tmp_path) as sts:
        sts.hold()
        context = ssl.create_default_context(cafile=str(sts.ca_path))

        async def calls() -> list[int]:
            async with httpx.AsyncClient(
                base_url=sts.url, verify=context, timeout=30, limits=httpx.Limits(max_connections=20)
            ) as client:
                pending = [asyncio.ensure_future(client.get(TARGET)) for _ in range(7)]
                await asyncio.to_thread(sts.wait_for_calls, lambda n: n == 7, "7 calls held")
                assert sts.in_flight == 7
                sts.release()
                return [(await p).status_code for p in pending]

        assert asyncio.run(calls()) == [200] * 7
        with httpx.Client(
            base_url=sts.url, verify=ssl.create_default_context(cafile=str(sts.ca_path)), timeout=30
        ) as client:
            client.get(TARGET)
            stats = _stats(client)
        assert (stats["in_flight_max"], stats["calls"]) == (7, 8)
        assert sts.in_flight == 0
