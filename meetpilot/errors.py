"""Domain errors: what services raise when a request cannot be carried out.

Services speak in these, never in HTTP or WebSocket terms. The interfaces map them once:
``meetpilot.apikit`` turns them into ``{"detail", "code"}`` JSON with ``status``, the WebSocket
consumer into a typed ``error`` frame with ``code``. Subclass the one that fits and give it a
``code`` of its own when clients need to tell it apart.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, detail: Any = "", *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail or self.__class__.__doc__ or self.code
        if code:
            self.code = code


class Invalid(DomainError):
    """The request is not valid."""

    status = 400
    code = "invalid"


class NotFound(DomainError):
    """Not found."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    """You may not do this."""

    status = 403
    code = "forbidden"


class Conflict(DomainError):
    """The object is not in a state that allows this."""

    status = 409
    code = "conflict"


class TooLarge(DomainError):
    """Too large."""

    status = 413
    code = "too_large"


class UnsupportedMediaType(DomainError):
    """The content is of a type this cannot read."""

    status = 415
    code = "unsupported_media_type"


class Unprocessable(DomainError):
    """The content could not be processed."""

    status = 422
    code = "unprocessable"


class RateLimited(DomainError):
    """Too many requests."""

    status = 429
    code = "rate_limited"

    def __init__(self, detail: Any = "", *, code: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(detail, code=code)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A service this needs is not available right now."""

    status = 503
    code = "unavailable"
