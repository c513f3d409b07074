"""The API never answers 5xx to schema-driven fuzzing (schemathesis against a live server).

The bounded run here (fixed seed, a few requests per operation) is part of ``make test``;
``make fuzz`` runs the same harness with ``FUZZ_FULL=1``: more examples per operation and a time
budget (``FUZZ_MAX_EXAMPLES``, ``FUZZ_MAX_TIME``, ``FUZZ_SEED``), and prints the counts.
"""

from __future__ import annotations

import os

import pytest

from accounts.models import Role
from tests import factories
from tests.hardening.fuzz import run_fuzz
from tests.meetings.factories import action_item_make, decision_make, meeting_make, segment_make

FULL = os.environ.get("FUZZ_FULL") == "1"
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "100" if FULL else "4"))
MAX_TIME = int(os.environ.get("FUZZ_MAX_TIME", "900" if FULL else "0"))
SEED = int(os.environ.get("FUZZ_SEED", "20261206"))
PHASES = os.environ.get("FUZZ_PHASES", "examples,coverage,fuzzing,stateful" if FULL else "examples,fuzzing,stateful")


@pytest.fixture
def seeded(transactional_db, settings, tmp_path):
    """A company with an admin token, a meeting with a transcript, an action item and a decision."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # The fuzzer is one caller sending as fast as it can: rate limits would answer it with 429s.
    settings.API_RATE_LIMITS_ENABLED = False
    company = factories.company_make(name="Fuzz Inc", email_domain="fuzz.test",
                                     owner=factories.user_make(email="owner@fuzz.test"))
    user = factories.admin_of(company)
    factories.member_make(company=company, role=Role.MEMBER, email="member@fuzz.test")
    meeting = meeting_make(company=company, title="Quarterly planning", created_by=user)
    segment_make(meeting=meeting, text="We will ship the report by Friday, Anna owns it.")
    action_item_make(meeting=meeting, description="Ship the report")
    decision_make(meeting=meeting, text="Ship on Friday")
    return factories.token_make(company=company, user=user, name="fuzz")


@pytest.mark.slow
@pytest.mark.timeout(3600 if FULL else 180)
def test_api_answers_fuzzing_without_server_errors(live_server, seeded, tmp_path):
    result = run_fuzz(base_url=live_server.url, token=seeded, report_dir=tmp_path, max_examples=MAX_EXAMPLES,
                      seed=SEED, max_time=MAX_TIME, phases=PHASES, timeout=MAX_TIME * 3 + 120)
    print(f"\n{result.summary()} (seed {SEED}, {MAX_EXAMPLES} examples per operation, phases {PHASES})")
    if FULL:
        print("\n".join(line for line in result.output.splitlines()
                        if any(word in line for word in ("passed", "failed", "Scenarios", "API Links", "generated"))))
        for operation, count in sorted(result.by_operation.items()):
            print(f"  {count:6d}  {operation}")
    assert result.requests >= (300 if not FULL else 1000), result.output[-3000:]
    assert len(result.by_operation) >= 40, sorted(result.by_operation)
    assert result.server_errors == [], result.server_errors[:5]
    failures = result.output[result.output.find("FAILURES"):]
    assert result.exit_code == 0, failures[:8000]
