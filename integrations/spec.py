"""What each provider's connection asks for, and how it is tested: one ``ProviderSpec`` per provider.

Each provider package (``integrations/<provider>/``) registers its spec when imported
(``IntegrationsConfig.ready`` imports them); the settings page and API are built from these specs, so
adding a provider never touches them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class ProviderError(Exception):
    """A provider refused or failed; ``str(exc)`` is the provider's own message, fit to show an admin
    (never a credential). ``retry_after`` is set when the provider asked us to wait (429)."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None,
                 transient: bool = False) -> None:
        super().__init__(message)
        self.status, self.retry_after, self.transient = status, retry_after, transient


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    secret: bool = False
    required: bool = False
    help: str = ""
    # text | url | email | choice | list (comma-separated) | mapping (JSON object) | bool
    kind: str = "text"
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProviderSpec:
    provider: str  # an ``integrations.models.Provider`` value
    label: str
    fields: tuple[Field, ...]
    # test(config, secrets) -> a short success message; raises ProviderError with the provider's message.
    test: Callable[[dict[str, Any], dict[str, Any]], str]
    help: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


_SPECS: dict[str, ProviderSpec] = {}


def register(spec: ProviderSpec) -> ProviderSpec:
    _SPECS[spec.provider] = spec
    return spec


def spec_for(provider: str) -> ProviderSpec | None:
    return _SPECS.get(provider)


def specs() -> list[ProviderSpec]:
    return sorted(_SPECS.values(), key=lambda s: s.label)
