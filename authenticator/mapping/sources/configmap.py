"""The EKSConfigMap source (alias ``ConfigMap``): the ``kube-system/aws-auth`` ConfigMap, watched.

Parsed by the shared aws-auth parser (:mod:`authenticator.mapping.awsauth`) with its
last-known-good rule: a section that fails to parse keeps its previous good value while the
other sections update. Deleting the ConfigMap empties this source (as the reference does) and
is logged as an error, since every node and human mapped by it loses access.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from kubernetes import client as k8s_client

from authenticator import metrics
from authenticator.kube.watch import Backoff
from authenticator.mapping.awsauth import AwsAuthResult, parse_aws_auth
from authenticator.mapping.model import MappingSet
from authenticator.mapping.sources._awsauth_log import failures, log_result
from authenticator.mapping.sources._published import SourceStatus
from authenticator.mapping.sources._watched import WatchedSource
from authenticator.mapping.sources.modes import EKS_CONFIGMAP

__all__ = ["AWS_AUTH_NAME", "AWS_AUTH_NAMESPACE", "EKSConfigMapSource"]

AWS_AUTH_NAMESPACE = "kube-system"
AWS_AUTH_NAME = "aws-auth"

_log = logging.getLogger("authenticator.mapping")


class EKSConfigMapSource(WatchedSource):
    def __init__(
        self,
        *,
        api_client: k8s_client.ApiClient,
        namespace: str = AWS_AUTH_NAMESPACE,
        configmap_name: str = AWS_AUTH_NAME,
        backoff: Backoff | None = None,
        name: str = EKS_CONFIGMAP,
    ) -> None:
        core = k8s_client.CoreV1Api(api_client)
        list_call = functools.partial(
            core.list_namespaced_config_map, namespace, field_selector=f"metadata.name={configmap_name}"
        )
        super().__init__(
            name=name,
            list_call=list_call,
            on_failure=metrics.configmap_watch_failures.inc,
            backoff=backoff,
        )
        self.namespace = namespace
        self.configmap_name = configmap_name
        self._result: AwsAuthResult | None = None
        self.exists: bool | None = None  # None until the first list

    def status(self) -> SourceStatus:
        failing = failures(self._result)
        if self.exists is False:
            failing["configmap"] = f"{self.namespace}/{self.configmap_name} does not exist (no mappings from it)"
        return SourceStatus(self.name, self.ready, failing)

    # -- WatchHandler ---------------------------------------------------------------------

    def on_list(self, items: list[dict[str, Any]]) -> None:
        mine = [i for i in items if (i.get("metadata") or {}).get("name") == self.configmap_name]
        if mine:
            self._apply(mine[-1], listed=True)
        else:
            self._gone(listed=True)

    def on_event(self, event_type: str, obj: dict[str, Any]) -> None:
        if (obj.get("metadata") or {}).get("name") != self.configmap_name:
            return
        if event_type == "DELETED":
            self._gone(listed=False)
        else:
            self._apply(obj, listed=False)

    # -- internals ------------------------------------------------------------------------

    def _apply(self, obj: dict[str, Any], *, listed: bool) -> None:
        data = obj.get("data")
        if not isinstance(data, dict):
            data = {}
        result = parse_aws_auth(data, self._result)
        for section in result.failed_sections:
            metrics.mapping_section_failures.labels(source=self.name, section=section).inc()
        log_result(result, source=self.name)
        self._result = result
        self.exists = True
        self._publish(result.mapping_set, listed=listed)

    def _gone(self, *, listed: bool) -> None:
        had = self.exists
        self._result = None  # a ConfigMap created later starts afresh: nothing to keep
        self.exists = False
        if had:
            _log.error(
                "%s: ConfigMap %s/%s was DELETED: every mapping from it is gone; nodes and users mapped "
                "only there are denied until it is restored",
                self.name,
                self.namespace,
                self.configmap_name,
            )
        elif listed:
            where = f"{self.namespace}/{self.configmap_name}"
            _log.warning("%s: ConfigMap %s does not exist; no mappings", self.name, where)
        self._publish(MappingSet(), listed=listed)
