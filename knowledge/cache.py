"""Per-company generation counter for caches of knowledge answers.

Every cached answer's key contains the company's current generation; any change
to what the company's search can find (chunks replaced or deleted, a document's
access level changed) bumps the generation, so older entries are simply never
read again and expire on their own. A missing counter (evicted, new company)
starts from the clock, so it can never go back to a value used before.
"""

from __future__ import annotations

import time

from django.core.cache import cache


def _key(company_id: int) -> str:
    return f"knowledge:gen:{company_id}"


def generation(company_id: int) -> int:
    key = _key(company_id)
    value = cache.get(key)
    if value is None:
        cache.add(key, int(time.time() * 1000), timeout=None)
        value = cache.get(key) or 0
    return int(value)


def generation_bump(company_id: int) -> None:
    key = _key(company_id)
    try:
        cache.incr(key)
    except ValueError:  # not there yet: start from the clock
        cache.add(key, int(time.time() * 1000), timeout=None)
