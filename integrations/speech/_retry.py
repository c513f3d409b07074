"""Retry with exponential backoff and full jitter for plain-httpx clients."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import httpx

from integrations.speech import SpeechProviderError

T = TypeVar("T")
RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


def with_retries(call: Callable[[], T], *, what: str, max_retries: int = 2, base_delay: float = 0.5) -> T:
    attempt = 0
    while True:
        try:
            return call()
        except httpx.HTTPStatusError as exc:
            status = exc.response.status_code
            if status not in RETRY_STATUS or attempt >= max_retries:
                raise SpeechProviderError(f"{what}: HTTP {status}: {exc.response.text[:200]}") from exc
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            if attempt >= max_retries:
                raise SpeechProviderError(f"{what}: {type(exc).__name__}: {exc}") from exc
        attempt += 1
        time.sleep(random.uniform(0, base_delay * (2 ** attempt)))
