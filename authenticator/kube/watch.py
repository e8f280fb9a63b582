"""A generic list+watch loop over the official ``kubernetes`` client, run in a thread.

The loop follows the API server's protocol (kubernetes.io/docs/reference/using-api/api-concepts):
list once to get the state and its resourceVersion, then watch from that resourceVersion;
every event moves the resourceVersion forward (BOOKMARK events too), so a watch that ends is
resumed exactly where it stopped and nothing is missed. ``410 Gone`` (as an HTTP status or as
an ERROR event) means our resourceVersion was compacted away: list again.

A watch that fails (connection dropped, HTTP error, bad event) is resumed after an exponential
backoff with jitter, so a fleet of webhooks does not hammer a recovering API server in step.
The loop runs in its own daemon thread and only swaps immutable snapshots in the handler, so it
never blocks request handling; :meth:`ListWatcher.stop` ends it promptly by shutting the
streaming socket down.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from kubernetes.client.exceptions import ApiException

__all__ = ["Backoff", "ListCall", "ListWatcher", "WatchHandler"]

_log = logging.getLogger("authenticator.kube")

# A bound list method of the kubernetes client (e.g. functools.partial(core.list_namespaced_config_map,
# "kube-system", field_selector="metadata.name=aws-auth")); called with _preload_content=False so it
# returns the raw urllib3 response and raises ApiException for a non-2xx status.
ListCall = Callable[..., Any]


class WatchHandler(Protocol):
    def on_list(self, items: list[dict[str, Any]]) -> None:
        """The full current state (after the first list and after every relist)."""
        ...

    def on_event(self, event_type: str, obj: dict[str, Any]) -> None:
        """One ADDED / MODIFIED / DELETED event, in order."""
        ...


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with "equal jitter": a delay in [d/2, d], d = initial * factor**attempt."""

    initial: float = 1.0
    maximum: float = 30.0
    factor: float = 2.0

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        ceiling = min(self.maximum, self.initial * self.factor ** min(attempt, 32))
        return ceiling / 2 + rand() * ceiling / 2


_MIN_WATCH_SECONDS = 1.0


class _Gone(Exception):
    """410: the resourceVersion we hold is too old; relist."""


class _WatchFailed(Exception):
    pass


class ListWatcher:
    def __init__(
        self,
        *,
        name: str,
        list_call: ListCall,
        handler: WatchHandler,
        on_failure: Callable[[], None] | None = None,
        backoff: Backoff | None = None,
        watch_timeout: int = 300,
        connect_timeout: float = 10.0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        """``watch_timeout``: seconds the API server keeps one watch open (``timeoutSeconds``);
        ``on_failure``: called once per failed watch or list (e.g. a Prometheus counter's inc)."""
        self.name = name
        self._list_call = list_call
        self._handler = handler
        self._on_failure = on_failure
        self._backoff = backoff or Backoff()
        self._watch_timeout = watch_timeout
        # The read timeout outlives timeoutSeconds so that a silent, half-dead connection still ends.
        self._request_timeout = (connect_timeout, 2 * watch_timeout + 30.0)
        self._rand = rand
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._response: Any = None
        self._lock = threading.Lock()
        self.resource_version: str | None = None
        # Counters for status and tests.
        self.lists = 0
        self.failures = 0
        self.listed = threading.Event()  # set after the first successful list
        self._progress = threading.Condition()

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=f"watch-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._lock:
            response = self._response
        if response is not None:
            _shutdown(response)
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until ``predicate()`` holds after a list, watch or failure; False on timeout."""
        with self._progress:
            return self._progress.wait_for(predicate, timeout)

    def _bump(self) -> None:
        with self._progress:
            self._progress.notify_all()

    # -- the loop -------------------------------------------------------------------------

    def _run(self) -> None:
        attempt = 0
        gone_in_a_row = 0
        while not self._stop.is_set():
            try:
                if self.resource_version is None:
                    self._list()
                started = time.monotonic()
                events = self._watch()
                gone_in_a_row = 0
                if events == 0 and time.monotonic() - started < _MIN_WATCH_SECONDS:
                    # A server that ends every watch at once would otherwise be hammered in a loop.
                    raise _WatchFailed("the watch ended as soon as it started")
                attempt = 0  # a watch that ran to its timeout: resume at once
            except _Gone:
                if self._stop.is_set():
                    break
                _log.info("%s: resourceVersion %s expired (410 Gone); listing again", self.name, self.resource_version)
                self.resource_version = None
                self._failed()
                gone_in_a_row += 1
                if gone_in_a_row > 1:  # one relist is the cure; a second 410 at once means back off
                    self._stop.wait(self._backoff.delay(attempt, self._rand))
                    attempt += 1
            except Exception as err:
                if self._stop.is_set():
                    break
                self._failed()
                delay = self._backoff.delay(attempt, self._rand)
                attempt += 1
                _log.warning("%s: watch failed (%s); retrying in %.2fs", self.name, _describe(err), delay)
                self._stop.wait(delay)

    def _failed(self) -> None:
        self.failures += 1
        if self._on_failure is not None:
            self._on_failure()
        self._bump()

    def _list(self) -> None:
        response = self._call()
        try:
            body = json.loads(response.data)
        finally:
            response.release_conn()
        if not isinstance(body, dict):
            raise _WatchFailed("list answer is not a JSON object")
        items = body.get("items") or []
        rv = (body.get("metadata") or {}).get("resourceVersion")
        if not isinstance(items, list) or not rv:
            raise _WatchFailed("list answer has no items or no resourceVersion")
        self._handler.on_list([item for item in items if isinstance(item, dict)])
        self.resource_version = str(rv)
        self.lists += 1
        self.listed.set()
        self._bump()

    def _watch(self) -> int:
        """One watch from our resourceVersion until the server ends it; the number of events."""
        response = self._call(
            watch=True,
            resource_version=self.resource_version,
            allow_watch_bookmarks=True,
            # Spread the reconnects of many webhooks over time, as client-go does.
            timeout_seconds=int(self._watch_timeout * (1 + self._rand())),
        )
        with self._lock:
            self._response = response
        self._bump()
        try:
            if self._stop.is_set():  # stop() ran before the response was visible to it
                return 0
            events = 0
            buffer = b""
            for chunk in response.stream(2**16, decode_content=True):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        self._event(line)
                        events += 1
            if buffer.strip():
                self._event(buffer)
                events += 1
            return events
        finally:
            with self._lock:
                self._response = None
            response.release_conn()

    def _event(self, line: bytes) -> None:
        try:
            event = json.loads(line)
            event_type = event["type"]
            obj = event["object"]
        except (ValueError, KeyError, TypeError):
            raise _WatchFailed("undecodable watch event") from None
        if not isinstance(obj, dict):
            raise _WatchFailed("watch event without an object")
        if event_type == "ERROR":
            code = obj.get("code")
            if code == 410:
                raise _Gone()
            raise _WatchFailed(f"watch ERROR event {code}: {obj.get('reason') or obj.get('message')}")
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if event_type in ("ADDED", "MODIFIED", "DELETED"):
            try:
                self._handler.on_event(event_type, obj)
            except Exception:  # a handler bug must not stall the watch on the same event forever
                _log.exception("%s: handling a %s event failed", self.name, event_type)
        elif event_type != "BOOKMARK":
            raise _WatchFailed(f"unknown watch event type {event_type!r}")
        if rv:
            self.resource_version = str(rv)

    def _call(self, **params: Any) -> Any:
        try:
            return self._list_call(
                **{k: v for k, v in params.items() if v is not None},
                _preload_content=False,
                _request_timeout=self._request_timeout,
            )
        except ApiException as err:
            if err.status == 410:
                raise _Gone() from None
            raise


def _shutdown(response: Any) -> None:
    # shutdown() wakes a thread blocked in recv(); close() alone does not.
    for method in ("shutdown", "close"):
        with contextlib.suppress(Exception):
            getattr(response, method)()


def _describe(err: BaseException) -> str:
    if isinstance(err, ApiException):
        return f"HTTP {err.status} {err.reason}"
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text}"[:200] if text else type(err).__name__
