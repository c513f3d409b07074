"""A stand-in for a customer's webhook endpoint on 127.0.0.1: it records every request and verifies the
signature the way a receiver following docs/integrations-outbound.md would.

    with WebhookReceiver(secret=None) as receiver:
        receiver.fail_next(2, status=500)   # answer 500 twice, then 200
        ...
        receiver.wait_for(1)
        receiver.requests[0].json, receiver.requests[0].verified
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from integrations.webhooks.signing import SIGNATURE_HEADER, signature_verify
from tests.fakes.local_server import LocalServer, Reply


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool | None  # None when the receiver was not given the secret yet
    answered: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver(LocalServer):
    name = "fake-webhook"

    def __init__(self, *, secret: str | None = None) -> None:
        self.secret = secret
        self.requests: list[Received] = []
        self._failures: list[int] = []
        super().__init__()

    @property
    def url(self) -> str:
        return f"{self.base}/hooks/meetpilot"

    def fail_next(self, count: int, *, status: int = 500) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def wait_for(self, count: int, *, timeout: float = 20.0) -> list[Received]:
        return self.wait_until(lambda: list(self.requests) if len(self.requests) >= count else None,
                               what=lambda: f"expected {count} webhook requests, got {len(self.requests)}",
                               timeout=timeout)

    def respond(self, method: str, path: str, headers: Any, body: bytes) -> Reply:
        with self._lock:
            status = self._failures.pop(0) if self._failures else 200
            verified = None if self.secret is None else signature_verify(self.secret, body,
                                                                          headers.get(SIGNATURE_HEADER, ""))
            if verified is False:
                status = 400
            self.requests.append(Received(path=path, headers=dict(headers.items()), body=body, verified=verified,
                                          answered=status))
        return status, {"received": status == 200}, {}
