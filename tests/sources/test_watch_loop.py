"""The list+watch loop's own rules: backoff bounds, and a watch that ends at once is backed off."""

from __future__ import annotations

from kubernetes import client as k8s_client

from authenticator.kube import Backoff
from authenticator.mapping.sources.configmap import EKSConfigMapSource
from tests.support.kube_apiserver import CONFIGMAPS_KUBE_SYSTEM, KubeApiServer


def test_backoff_grows_to_its_maximum_with_jitter() -> None:
    backoff = Backoff(initial=1.0, maximum=30.0)
    assert backoff.delay(0, lambda: 0.0) == 0.5 and backoff.delay(0, lambda: 1.0) == 1.0
    assert backoff.delay(3, lambda: 1.0) == 8.0
    assert backoff.delay(10, lambda: 1.0) == 30.0 and backoff.delay(10, lambda: 0.0) == 15.0
    assert backoff.delay(10_000, lambda: 0.5) <= 30.0


def test_a_watch_that_ends_at_once_counts_as_a_failure(
    standin: KubeApiServer, api_client: k8s_client.ApiClient
) -> None:
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", {"data": {}})
    standin.watch_timeout_override = 0  # every watch ends cleanly right after it starts
    source = EKSConfigMapSource(api_client=api_client, backoff=Backoff(initial=0.01, maximum=0.05))
    source.start_thread()
    try:
        assert source.watcher.wait_for(lambda: source.watcher.failures >= 3, 10)
        assert source.ready and source.watcher.lists == 1  # the list still counts; no relists
    finally:
        source.stop_thread()
