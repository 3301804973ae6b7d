"""An ASGI guard in front of the API: the Host header check, and the request size limit enforced while the
body is read (a 1 GB upload is refused after the first megabytes, not after it was spooled to disk)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

Scope = dict[str, Any]


BODY_TIMEOUT = 30.0  # seconds the server waits for the next piece of a request body


class BodyTooLarge(Exception):
    pass


class BodyTimeout(Exception):
    pass


class GuardMiddleware:
    """Refuses, with a JSON ``{"error": ...}``, requests for another host (400), bodies over ``max_body``
    bytes (413: by Content-Length at once, or as soon as a chunked body passes the limit) and bodies that
    stall for ``BODY_TIMEOUT`` seconds (408)."""

    def __init__(self, app: Any, allowed_hosts: Sequence[str], max_body: int) -> None:
        self.app = app
        self.allowed = {h.lower() for h in allowed_hosts}
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = host_name(headers.get("host", ""))
        if host not in self.allowed:
            await answer(send, 400, f"host '{host[:60]}' is not served here; start `ganforge serve` with "
                                    f"--allow-host {host[:60]} to allow it")
            return
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            await answer(send, 413, f"the request is larger than {self.max_body // 2**20} MB")
            return
        await self.limited(scope, receive, send)

    async def limited(self, scope: Scope, receive: Any, send: Any) -> None:
        seen, started = 0, False

        async def counting_receive() -> dict[str, Any]:
            nonlocal seen
            try:
                message = await asyncio.wait_for(receive(), BODY_TIMEOUT)
            except asyncio.TimeoutError:
                raise BodyTimeout from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await answer(send, 413, f"the request is larger than {self.max_body // 2**20} MB")
        except BodyTimeout:
            if not started:
                await answer(send, 408, f"the request body stalled for {BODY_TIMEOUT:g} s")


def host_name(header: str) -> str:
    """The host of a Host header, without its port (``[::1]:8000`` -> ``[::1]``)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[: header.find("]") + 1]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


async def answer(send: Any, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
