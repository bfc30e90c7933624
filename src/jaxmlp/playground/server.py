"""The playground's web app (Starlette): the page, its assets and one WebSocket per tab.

Routes: ``/`` the page, ``/static/...`` its script and style (from the installed package;
nothing from elsewhere), ``/ws`` the tab's WebSocket (:mod:`jaxmlp.playground.protocol`
for what the page sends, :mod:`jaxmlp.playground.frames` for what comes back), and
``/healthz``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import FileResponse, PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from jaxmlp.playground.protocol import ProtocolError, parse
from jaxmlp.playground.session import Session

__all__ = ["STATIC", "create_app"]

STATIC = Path(__file__).parent / "static"


async def _page(request) -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def _health(request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def _send(ws: WebSocket, session: Session, wake: asyncio.Event) -> None:
    """Send what the worker produced, whenever it says so."""
    while True:
        await wake.wait()
        wake.clear()
        for item in session.outgoing():
            if isinstance(item, bytes):
                await ws.send_bytes(item)
            else:
                await ws.send_text(item)


async def _receive(ws: WebSocket, session: Session) -> None:
    """Parse what the page sends and hand it to the worker; refuse the rest politely."""
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        try:
            if text is None:
                raise ProtocolError("binary messages are not accepted; send JSON text")
            session.submit(parse(text))
        except ProtocolError as e:
            await ws.send_json({"type": "error", "message": str(e)})


async def _socket(ws: WebSocket) -> None:
    await ws.accept()
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def notify() -> None:
        try:
            loop.call_soon_threadsafe(wake.set)
        except RuntimeError:  # the event loop is gone, and with it the tab
            session.close()

    session = Session(notify)
    sender = asyncio.create_task(_send(ws, session, wake))
    try:
        await _receive(ws, session)
    except WebSocketDisconnect:
        pass
    finally:
        session.close()
        sender.cancel()


def create_app() -> Starlette:
    """The ASGI app (serve it with uvicorn, test it with Starlette's TestClient)."""
    return Starlette(routes=[
        Route("/", _page),
        Route("/healthz", _health),
        WebSocketRoute("/ws", _socket),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ])  # fmt: skip
