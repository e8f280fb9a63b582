"""``{{EC2PrivateDNSName}}``: an instance id (the node's session name) to its private DNS name.

Nodes authenticate far more often than they are born, and a private DNS name never changes for
an instance, so names are cached for the life of the process (bounded). Everything else is about
not melting down when many nodes arrive at once (docs/mapping.md §2):

- concurrent lookups of one id share one future (coalescing);
- ids are queued and sent together, up to ``max_batch`` per DescribeInstances call, with at
  most ``max_in_flight`` calls running: while the slots are busy the queue grows, and the next
  free slot takes a whole batch (the reference: ≤5 direct calls, then batches of ≤100);
- a lookup waits at most ``timeout`` seconds and is then denied, never left hanging;
- the botocore call runs in a worker thread, off the event loop.

DescribeInstances is asked with an ``instance-id`` *filter* rather than ``InstanceIds``: with
``InstanceIds`` one unknown id fails the whole batch (InvalidInstanceID.NotFound), with the
filter it is simply absent from the answer.

Credentials come from the botocore default chain; with ``role_arn``
(``ec2DescribeInstancesRoleARN``) the calls are made as that role, assumed through STS and
re-assumed before the credentials expire. With ``source_arn`` (``server.sourceARN``), that AssumeRole
carries ``x-amz-source-arn`` and ``x-amz-source-account`` (the account of that ARN), so the role's
trust policy can require ``aws:SourceArn``/``aws:SourceAccount``: the reference's confused-deputy
protection (v0.6.21).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import botocore.session
from botocore.config import Config

from authenticator import metrics
from authenticator.arn import parse_arn
from authenticator.mapping.templates import TemplateDenied, is_instance_id

if TYPE_CHECKING:  # type-checking only: botocore builds its client classes at run time
    from mypy_boto3_sts import STSClient

__all__ = ["SOURCE_ACCOUNT_HEADER", "SOURCE_ARN_HEADER", "EC2PrivateDNSNameResolver", "source_headers"]

_log = logging.getLogger("authenticator.mapping.ec2")

_SESSION_NAME = "eks-iam-authenticator"
SOURCE_ARN_HEADER = "x-amz-source-arn"
SOURCE_ACCOUNT_HEADER = "x-amz-source-account"
_REFRESH_BEFORE = timedelta(minutes=5)


class EC2PrivateDNSNameResolver:
    def __init__(
        self,
        *,
        region: str | None = None,
        role_arn: str | None = None,
        source_arn: str | None = None,
        session: botocore.session.Session | None = None,
        endpoint_url: str | None = None,
        sts_endpoint_url: str | None = None,
        client_factory: Callable[[], Any] | None = None,
        max_in_flight: int = 5,
        max_batch: int = 100,
        batch_window: float = 0.0,
        timeout: float = 5.0,
        cache_size: int = 100_000,
    ) -> None:
        """``client_factory``: returns an EC2 client (tests); otherwise one is built from ``session``
        (default: a new botocore session, default credential chain) for ``region``.
        ``batch_window``: how long the first lookup of an idle resolver waits for others to join it.
        ``source_arn``: sent with the AssumeRole of ``role_arn``; ``ValueError`` if it does not parse."""
        if max_in_flight < 1 or not 1 <= max_batch <= 200:
            raise ValueError("max_in_flight must be >= 1 and max_batch within 1..200")
        self._session = session or botocore.session.get_session()
        self._region = region or self._session.get_config_variable("region") or "us-east-1"
        self._role_arn = role_arn or None
        self._source_headers = source_headers(source_arn) if source_arn else {}
        self._endpoint_url = endpoint_url
        self._sts_endpoint_url = sts_endpoint_url
        self._client_factory = client_factory
        self._max_in_flight = max_in_flight
        self._max_batch = max_batch
        self._batch_window = batch_window
        self._timeout = timeout
        self._cache_size = cache_size
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._pending: dict[str, asyncio.Future[str]] = {}  # queued or in flight
        self._queue: dict[str, None] = {}  # ids not yet sent, in arrival order
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._calls: set[asyncio.Task[None]] = set()
        self._client: Any = None
        self._client_expires: datetime | None = None
        self._client_lock = threading.Lock()

    async def __call__(self, instance_id: str) -> str:
        if not is_instance_id(instance_id):
            raise TemplateDenied("session name is not an EC2 instance id")
        cached = self._cache.get(instance_id)
        if cached is not None:
            return cached
        self._bind_loop()
        future = self._pending.get(instance_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            future.add_done_callback(_consume)  # waiters may all have timed out
            self._pending[instance_id] = future
            self._queue[instance_id] = None
            self._kick()
        try:
            return await asyncio.wait_for(asyncio.shield(future), self._timeout)
        except TimeoutError:
            raise TemplateDenied(f"EC2 lookup of {instance_id} timed out") from None

    # -- batching ---------------------------------------------------------------------------

    def _bind_loop(self) -> None:
        # Futures and the semaphore belong to one event loop; a new loop (tests, a restarted
        # server) starts with fresh batching state. The cache is plain data and is kept.
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._pending.clear()
            self._queue.clear()
            self._slots = asyncio.Semaphore(self._max_in_flight)
            self._flusher = None

    def _kick(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush(), name="ec2-describe-flush")

    async def _flush(self) -> None:
        assert self._slots is not None
        # Let the lookups that arrive together (same loop turn, or within the window) join the batch.
        await asyncio.sleep(self._batch_window)
        while self._queue:
            await self._slots.acquire()
            batch = list(self._queue)[: self._max_batch]
            for instance_id in batch:
                del self._queue[instance_id]
            task = asyncio.get_running_loop().create_task(self._describe(batch), name="ec2-describe")
            self._calls.add(task)
            task.add_done_callback(self._calls.discard)

    async def _describe(self, batch: list[str]) -> None:
        assert self._slots is not None
        try:
            names = await asyncio.to_thread(self._describe_sync, batch)
        except Exception as err:  # AWS error, throttling, no credentials: deny this batch
            _log.warning("DescribeInstances for %d instance(s) failed: %s", len(batch), _describe_error(err))
            for instance_id in batch:
                self._settle(instance_id, error=TemplateDenied("EC2 DescribeInstances failed"))
        else:
            for instance_id in batch:
                name = names.get(instance_id)
                if name:
                    self._remember(instance_id, name)
                    self._settle(instance_id, result=name)
                else:
                    self._settle(instance_id, error=TemplateDenied(f"EC2 instance {instance_id} not found"))
        finally:
            self._slots.release()

    def _settle(self, instance_id: str, *, result: str | None = None, error: Exception | None = None) -> None:
        future = self._pending.pop(instance_id, None)
        if future is None or future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result or "")

    def _remember(self, instance_id: str, name: str) -> None:
        self._cache[instance_id] = name
        self._cache.move_to_end(instance_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    # -- the AWS side (worker threads) ----------------------------------------------------

    def _describe_sync(self, batch: list[str]) -> dict[str, str]:
        client = self._ec2()
        names: dict[str, str] = {}
        token: str | None = None
        while True:
            params: dict[str, Any] = {"Filters": [{"Name": "instance-id", "Values": batch}]}
            if token:
                params["NextToken"] = token
            metrics.ec2_describe_instances_calls.inc()
            answer = client.describe_instances(**params)
            for reservation in answer.get("Reservations", []):
                for instance in reservation.get("Instances", []):
                    instance_id = instance.get("InstanceId")
                    name = instance.get("PrivateDnsName")
                    if instance_id and name:
                        names[instance_id] = name
            token = answer.get("NextToken")
            if not token:
                return names

    def _add_source_headers(self, request: Any, **_: Any) -> None:
        # Before signing, so that the headers are signed with the rest of the request.
        for name, value in self._source_headers.items():
            request.headers[name] = value

    def _ec2(self) -> Any:
        with self._client_lock:
            now = datetime.now(UTC)
            if self._client is not None and (self._client_expires is None or now < self._client_expires):
                return self._client
            if self._client_factory is not None:
                self._client = self._client_factory()
                return self._client
            config = Config(
                connect_timeout=self._timeout,
                read_timeout=self._timeout,
                retries={"max_attempts": 2, "mode": "standard"},
            )
            key_id = secret = session_token = None  # None: the session's own credentials
            if self._role_arn:
                sts = cast(
                    "STSClient",
                    self._session.create_client(
                        "sts", region_name=self._region, endpoint_url=self._sts_endpoint_url, config=config
                    ),
                )
                if self._source_headers:
                    sts.meta.events.register("before-sign.sts.AssumeRole", self._add_source_headers)
                assumed = sts.assume_role(RoleArn=self._role_arn, RoleSessionName=_SESSION_NAME)["Credentials"]
                key_id, secret, session_token = (
                    assumed["AccessKeyId"],
                    assumed["SecretAccessKey"],
                    assumed["SessionToken"],
                )
                expiration = assumed["Expiration"]
                if isinstance(expiration, datetime):
                    self._client_expires = expiration.astimezone(UTC) - _REFRESH_BEFORE
                else:
                    self._client_expires = now + timedelta(minutes=10)
            self._client = self._session.create_client(
                "ec2",
                region_name=self._region,
                endpoint_url=self._endpoint_url,
                config=config,
                aws_access_key_id=key_id,
                aws_secret_access_key=secret,
                aws_session_token=session_token,
            )
            return self._client


def source_headers(source_arn: str) -> dict[str, str]:
    """The headers of the AssumeRole for ``source_arn``; ``ValueError`` (one line) if it does not parse."""
    account = parse_arn(source_arn).account
    if not account:
        raise ValueError(f"arn {source_arn!r} has no account id")
    return {SOURCE_ARN_HEADER: source_arn, SOURCE_ACCOUNT_HEADER: account}


def _consume(future: asyncio.Future[str]) -> None:
    if not future.cancelled():
        future.exception()


def _describe_error(err: BaseException) -> str:
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(err).__name__
