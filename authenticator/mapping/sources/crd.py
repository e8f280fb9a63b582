"""The CRD source: cluster-scoped ``IAMIdentityMapping`` objects (iamauthenticator.k8s.aws/v1alpha1).

Each object's ``spec`` is ``{arn, username, groups}``. The reference needs a controller to
write ``status.canonicalARN``; we canonicalise ``spec.arn`` ourselves (docs/token.md §6) when the
object arrives, so no controller and no write access are needed. An ARN that names a role (or an
assumed-role session) becomes a role mapping, anything else a user mapping; an object whose ARN
is not an identity ARN is skipped with a warning. When two objects name the same ARN, the one
whose name sorts last wins (deterministic, and logged).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from kubernetes import client as k8s_client

from authenticator import metrics
from authenticator.arn import canonicalize, parse_arn
from authenticator.kube.watch import Backoff
from authenticator.mapping.model import MappingSet, RoleMapping, UserMapping
from authenticator.mapping.sources._published import SourceStatus
from authenticator.mapping.sources._watched import WatchedSource
from authenticator.mapping.sources.modes import CRD

__all__ = ["CRD_GROUP", "CRD_KIND", "CRD_PLURAL", "CRD_VERSION", "CRDSource", "mapping_from_object"]

CRD_GROUP = "iamauthenticator.k8s.aws"
CRD_VERSION = "v1alpha1"
CRD_PLURAL = "iamidentitymappings"
CRD_KIND = "IAMIdentityMapping"

_log = logging.getLogger("authenticator.mapping")


def mapping_from_object(obj: dict[str, Any]) -> RoleMapping | UserMapping:
    """The mapping one IAMIdentityMapping object stands for; ValueError (one line) if unusable."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        raise ValueError("spec is missing")
    arn = spec.get("arn")
    if not isinstance(arn, str) or not arn:
        raise ValueError("spec.arn is missing")
    canonical = canonicalize(arn)  # ValueError for anything that is not an identity ARN
    username = spec.get("username")
    if not isinstance(username, str):
        username = ""
    raw_groups = spec.get("groups")
    groups = tuple(g for g in raw_groups if isinstance(g, str)) if isinstance(raw_groups, list) else ()
    if parse_arn(canonical).resource.startswith("role/"):
        return RoleMapping(username=username, groups=groups, rolearn=canonical)
    return UserMapping(userarn=canonical, username=username, groups=groups)


class CRDSource(WatchedSource):
    def __init__(
        self,
        *,
        api_client: k8s_client.ApiClient,
        backoff: Backoff | None = None,
        name: str = CRD,
    ) -> None:
        custom = k8s_client.CustomObjectsApi(api_client)
        list_call = functools.partial(custom.list_cluster_custom_object, CRD_GROUP, CRD_VERSION, CRD_PLURAL)
        super().__init__(
            name=name,
            list_call=list_call,
            on_failure=metrics.crd_watch_failures.inc,  # configmap_watch_failures is about aws-auth only
            backoff=backoff,
        )
        self._objects: dict[str, RoleMapping | UserMapping] = {}  # object name -> mapping
        self._invalid: dict[str, str] = {}  # object name -> why it is skipped

    def status(self) -> SourceStatus:
        return SourceStatus(self.name, self.ready, {f"{CRD_KIND}/{n}": r for n, r in sorted(self._invalid.items())})

    # -- WatchHandler ---------------------------------------------------------------------

    def on_list(self, items: list[dict[str, Any]]) -> None:
        self._objects.clear()
        self._invalid.clear()
        for item in items:
            self._upsert(item)
        self._rebuild(listed=True)

    def on_event(self, event_type: str, obj: dict[str, Any]) -> None:
        name = (obj.get("metadata") or {}).get("name")
        if not isinstance(name, str):
            return
        if event_type == "DELETED":
            self._objects.pop(name, None)
            self._invalid.pop(name, None)
        else:
            self._upsert(obj)
        self._rebuild(listed=False)

    # -- internals ------------------------------------------------------------------------

    def _upsert(self, obj: dict[str, Any]) -> None:
        name = (obj.get("metadata") or {}).get("name")
        if not isinstance(name, str):
            return
        try:
            self._objects[name] = mapping_from_object(obj)
            self._invalid.pop(name, None)
        except ValueError as err:
            self._objects.pop(name, None)
            self._invalid[name] = str(err)
            _log.warning("%s: %s %s is skipped: %s", self.name, CRD_KIND, name, err)

    def _rebuild(self, *, listed: bool) -> None:
        roles: list[RoleMapping] = []
        users: list[UserMapping] = []
        for _, mapping in sorted(self._objects.items()):  # by object name: the last one wins on duplicates
            if isinstance(mapping, RoleMapping):
                roles.append(mapping)
            else:
                users.append(mapping)
        self._publish(MappingSet(roles=tuple(roles), users=tuple(users)), listed=listed)
