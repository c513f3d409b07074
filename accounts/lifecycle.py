"""A person's data and a company's retention policy: the parts each app registers.

A person's data lives in several apps (what they said in meetings, the action items they own, their
chat threads, documents they uploaded, voiceprints), all above ``accounts``. Each app registers one
part from its ``AppConfig.ready()``, so ``accounts`` can export or erase a whole person without
importing any of them (the same idea as ``accounts.dashboard``)::

    from accounts.lifecycle import person_part

    @person_part("chat", order=40)
    class ChatPart:
        def export(company, user) -> dict | list: ...        # JSON-ready, only this company's rows
        def erase(company, user) -> dict[str, int]: ...      # counts of what was removed or anonymised

Both run inside the caller's tenant scope and must touch only ``company``'s rows. ``erase`` runs in
the erasure's transaction: raise to undo the whole erasure.

Retention: ``Company.settings["retention"]`` holds days per kind of data (``RETENTION_KINDS``); missing,
empty or 0 keeps that kind forever. ``meetings.lifecycle`` applies it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from accounts.models import Company, User

ERASED_NAME = "Former member"
ERASED_EMAIL_DOMAIN = "erased.invalid"

# Kind -> what people read on the settings page.
RETENTION_KINDS: dict[str, str] = {
    "recordings": "Uploaded recordings (the audio files)",
    "live_audio": "Live audio (spoken answers and audio stored during live meetings)",
    "transcripts": "Transcripts (what was said, and everything found in it live)",
    "reports": "Reports (after-meeting summaries)",
}
RETENTION_MAX_DAYS = 36500


@dataclass(frozen=True)
class PersonPart:
    name: str
    order: int
    export: Callable[[Company, User], Any] | None
    erase: Callable[[Company, User], Mapping[str, int]] | None


_parts: dict[str, PersonPart] = {}


def register_person_part(name: str, *, export: Callable[[Company, User], Any] | None = None,
                         erase: Callable[[Company, User], Mapping[str, int]] | None = None,
                         order: int = 100) -> PersonPart:
    """Register (or replace) the part ``name`` of every person's data export and erasure."""
    part = PersonPart(name=name, order=order, export=export, erase=erase)
    _parts[name] = part
    return part


def person_part(name: str, *, order: int = 100) -> Callable[[type], type]:
    """Class decorator: a class with static ``export`` and/or ``erase`` functions is a registered part."""

    def register(cls: type) -> type:
        register_person_part(name, export=getattr(cls, "export", None), erase=getattr(cls, "erase", None),
                             order=order)
        return cls

    return register


def person_parts() -> list[PersonPart]:
    return sorted(_parts.values(), key=lambda part: (part.order, part.name))


def retention_policy(company: Company) -> dict[str, int | None]:
    """Days to keep each kind of data (None: forever), from the company's settings."""
    stored = (company.settings or {}).get("retention") or {}
    policy: dict[str, int | None] = {}
    for kind in RETENTION_KINDS:
        value = stored.get(kind)
        policy[kind] = value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
    return policy


def retention_clean(values: Mapping[str, Any]) -> dict[str, int | None]:
    """A policy from people's input: whole days 0..RETENTION_MAX_DAYS, 0 / empty / None meaning forever.

    Raises ValueError naming the kind for anything else (unknown kinds included).
    """
    unknown = set(values) - set(RETENTION_KINDS)
    if unknown:
        raise ValueError(f"unknown kind of data: {', '.join(sorted(unknown))}")
    policy: dict[str, int | None] = {}
    for kind in RETENTION_KINDS:
        value = values.get(kind)
        if value in (None, "", 0):
            policy[kind] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"{kind}: a whole number of days")
        try:
            days = int(value)
        except ValueError:
            raise ValueError(f"{kind}: a whole number of days") from None
        if not 0 <= days <= RETENTION_MAX_DAYS:
            raise ValueError(f"{kind}: between 0 and {RETENTION_MAX_DAYS} days")
        policy[kind] = days or None
    return policy
