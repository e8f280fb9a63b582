"""The served webhook's start-up heap is frozen out of the garbage collector's sight, so that a
full collection under load walks only what reviews left behind (docs/performance.md, S2)."""

from __future__ import annotations

import asyncio
import gc

import uvicorn
from fastapi import FastAPI

from authenticator.server.commands import WebhookServer, listen_socket
from tests.support.aio import until


def _tracked(obj: object) -> bool:
    """Whether ``obj`` is in a generation the collector walks (the frozen ones are not listed)."""
    return any(o is obj for o in gc.get_objects())


def test_start_up_freezes_what_is_alive_and_serving_goes_on() -> None:
    app = FastAPI()
    server = WebhookServer(uvicorn.Config(app, log_config=None, lifespan="on"))
    sock = listen_socket("127.0.0.1", 0)
    assert gc.get_freeze_count() == 0 and _tracked(app)

    async def start_then_stop() -> tuple[int, bool]:
        serving = asyncio.create_task(server.server.serve(sockets=[sock]))
        await until(lambda: server.server.started, "uvicorn started")
        frozen = gc.get_freeze_count()
        server.server.should_exit = True
        await serving
        return frozen, _tracked(app)

    try:
        frozen, app_tracked = asyncio.run(start_then_stop())
    finally:
        gc.unfreeze()  # this test process goes on collecting as before
        sock.close()
    assert frozen > 1000, frozen
    assert not app_tracked
