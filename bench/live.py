#!/usr/bin/env python
"""Benchmark of the live meeting session (``make bench-live``); a measurement, not a test.

Starts a real daphne (the only server process the design needs: analysis runs on a bounded
thread pool inside it) against its own database (EMBEDDED_DB_NAME, default meetpilot_bench) and
its own Redis prefix, then streams N concurrent sales meetings, each from one ``websockets``
client speaking protocol v1: about one final caption every 2-3 s per meeting, each preceded by
two interim captions. One run drops every client mid-stream (transport aborted with captions in
flight), reconnects, resumes with ``last_event_id`` and resends what was not acked.

Printed per run: caption-to-ack and caption-to-event latency (transcript, suggestion, action
item, fact check) p50/p95/p99, events per second, and lost and duplicated captions counted from
the database afterwards, plus event-id gaps and repeats seen by the clients. Latencies exclude
frames resent after a reconnect and events replayed after one (those include the outage).

    make bench-live                       # the default runs: 1, 20, 50 meetings, 20 with reconnects
    .venv/bin/python bench/live.py --runs 20 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("EMBEDDED_DB_NAME", "meetpilot_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetpilot.settings.base")
os.environ.setdefault("CHANNEL_LAYER_PREFIX", "bench-live")
os.environ.setdefault("CACHE_KEY_PREFIX", "bench-live")
os.environ.setdefault("CONN_MAX_AGE", "60")  # as a production deployment would run
os.environ.setdefault("LOG_LEVEL", "WARNING")
# Measure the uncached answer path: every suggestion searches the knowledge base.
os.environ.setdefault("KNOWLEDGE_ANSWER_CACHE_SECONDS", "0")
if os.environ["EMBEDDED_DB_NAME"] in ("", "meetpilot"):
    sys.exit("refusing to benchmark against the development database; set EMBEDDED_DB_NAME")

ORIGIN = "http://127.0.0.1:8000"
ANALYSIS_TYPES = ("suggestion", "action_item", "fact_check", "decision")
DOCUMENTS = {
    "Q3 report": "Acme quarterly report. Financial results for the third quarter: Q3 revenue was $21.3 million, "
                 "up 12% year over year. Gross margin was 68% in the third quarter. Headcount grew to 240.",
    "Security FAQ": "Acme security FAQ. Does Acme support single sign-on? Yes: Acme supports single sign-on (SSO) "
                    "with Okta, Azure AD and Google Workspace through SAML 2.0. Is customer data encrypted? All "
                    "customer data is encrypted at rest with AES-256 and in transit with TLS 1.2 or later.",
    "Pricing FAQ": "Acme pricing FAQ. How much does the Enterprise plan cost? The Enterprise plan costs $45 per "
                   "seat per month, billed annually, with a minimum of 50 seats. Is there a free trial? Yes, a "
                   "30-day free trial of the Business plan.",
}
THINGS = ["security questionnaire", "pricing sheet", "reference list", "implementation plan", "contract draft",
          "onboarding guide", "architecture diagram", "data processing agreement"]
DAYS = ["Friday", "Monday", "Thursday", "tomorrow", "next week"]
CHOICES = ["start with a pilot team", "go with the annual plan", "use the Enterprise plan", "move the kickoff",
           "include the support team", "run a security review first"]


def script_line(i: int) -> tuple[str, str, str | None]:
    """The i-th line of an endless sales call: (speaker, text, the analysis event it should produce)."""
    n = i // 10
    lines = [
        ("Priya Buyer", "Does your platform support single sign-on with Okta?", "suggestion"),
        ("Dana Seller", "Yes. Our Q3 revenue was eighteen point seven million dollars, so we are growing.",
         "fact_check"),
        ("Priya Buyer", "How much does the Enterprise plan cost per seat?", "suggestion"),
        ("Dana Seller", f"I will send you the {THINGS[n % len(THINGS)]} by {DAYS[n % len(DAYS)]}.", "action_item"),
        ("Priya Buyer", "Is customer data encrypted at rest?", "suggestion"),
        ("Dana Seller", "Let me share my screen and show you the dashboard.", None),
        ("Priya Buyer", f"Okay. We decided to {CHOICES[n % len(CHOICES)]}.", "decision"),
        ("Dana Seller", "Our gross margin was sixty eight percent in the third quarter.", "fact_check"),
        ("Priya Buyer", "Is there a free trial?", "suggestion"),
        ("Dana Seller", "That sounds good to me, thanks.", None),
    ]
    return lines[i % len(lines)]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def fmt_ms(values: list[float]) -> str:
    if not values:
        return "-"
    return "/".join(f"{percentile(values, q):.0f}" for q in (0.5, 0.95, 0.99)) + f" (n={len(values)})"


# --- the server ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_daphne(port: int) -> subprocess.Popen:
    log = open(ROOT / "var" / "bench-live-daphne.log", "w")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                                "meetpilot.asgi:application"], cwd=ROOT, env=dict(os.environ),
                               stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            sys.exit(f"daphne exited; see {log.name}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                sys.exit("daphne did not start")
            time.sleep(0.2)


# --- setup and checks (Django, synchronous) -----------------------------------------------------------


def django_setup() -> None:
    import django

    from meetpilot.embedded_db import ensure_started

    ensure_started()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def setup_company() -> dict:
    import io

    from accounts import services as account_services
    from accounts.models import User
    from accounts.tenancy import tenant_scope
    from knowledge import services as knowledge_services

    stamp = f"{int(time.time())}{random.randint(100, 999)}"
    domain = f"bench{stamp}.test"
    owner = User.objects.create_user(email=f"dana@{domain}", password="bench-pass-9", full_name="Dana Seller")
    company = account_services.company_create(name=f"Bench {stamp}", owner=owner, email_domain=domain)
    token = account_services.api_token_create(company=company, user=owner, name="bench").raw_token
    with tenant_scope(company):
        for title, text in DOCUMENTS.items():
            data = text.encode()
            upload = knowledge_services.document_upload(company=company, uploaded_by=owner, file=io.BytesIO(data),
                                                        filename=f"{title}.txt", size=len(data), title=title)
            knowledge_services.document_ingest(company=company, document_id=upload.document.pk)
    return {"company": company, "token": token, "domain": domain, "owner": owner}


def make_meetings(ctx: dict, n: int, label: str) -> list[int]:
    from django.utils import timezone

    from accounts.tenancy import tenant_scope
    from meetings.models import Meeting

    company = ctx["company"]
    with tenant_scope(company):
        return [Meeting.objects.create(company=company, title=f"{label} #{i + 1}", kind=Meeting.Kind.SALES,
                                       status=Meeting.Status.ACTIVE, started_at=timezone.now(),
                                       platform=Meeting.Platform.GOOGLE_MEET).pk for i in range(n)]


def wait_for_quiet(ctx: dict, meeting_ids: list[int], *, quiet: float = 2.0, limit: float = 60.0) -> None:
    """Until the server has stopped adding events to these meetings (analysis drained)."""
    from accounts.tenancy import tenant_scope
    from meetings.models import MeetingEvent

    deadline, last, since = time.monotonic() + limit, -1, time.monotonic()
    while time.monotonic() < deadline:
        with tenant_scope(ctx["company"]):
            count = MeetingEvent.objects.filter(meeting_id__in=meeting_ids).count()
        if count != last:
            last, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.3)


def db_check(ctx: dict, clients: list[MeetingClient]) -> dict:
    """Lost and duplicated captions, from the database."""
    from accounts.tenancy import tenant_scope
    from meetings.models import MeetingEvent, Suggestion, TranscriptSegment

    lost = duplicated = mismatched = 0
    with tenant_scope(ctx["company"]):
        ids = [c.meeting_id for c in clients]
        rows = defaultdict(list)
        for meeting_id, seq, text in (TranscriptSegment.objects.filter(meeting_id__in=ids, is_final=True)
                                      .values_list("meeting_id", "client_sequence", "text")):
            rows[meeting_id].append((seq, text))
        for client in clients:
            stored = rows[client.meeting_id]
            by_seq = defaultdict(list)
            for seq, text in stored:
                by_seq[seq].append(text)
            lost += sum(1 for seq in client.finals if seq not in by_seq)
            duplicated += sum(len(texts) - 1 for texts in by_seq.values()) + sum(
                len(texts) for seq, texts in by_seq.items() if seq not in client.finals)
            mismatched += sum(1 for seq, text in client.finals.items() if seq in by_seq and by_seq[seq][0] != text)
        events = MeetingEvent.objects.filter(meeting_id__in=ids).count()
        server_ms = list(Suggestion.objects.filter(meeting_id__in=ids, kind="suggestion")
                         .values_list("latency_ms", flat=True))
    return {"lost": lost, "duplicated": duplicated, "mismatched": mismatched, "server_events": events,
            "server_suggestion_ms": [v for v in server_ms if v is not None]}


# --- the clients --------------------------------------------------------------------------------------


@dataclass
class Stats:
    ack_final: list[float] = field(default_factory=list)
    ack_interim: list[float] = field(default_factory=list)
    transcript: list[float] = field(default_factory=list)
    analysis: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    events_received: int = 0
    errors: Counter = field(default_factory=Counter)
    resent: int = 0
    reconnects: int = 0
    event_gaps: int = 0
    event_repeats: int = 0
    finals: int = 0
    interims: int = 0


class MeetingClient:
    def __init__(self, *, host: str, meeting_id: int, token: str, domain: str, offset: int, stats: Stats,
                 rng: random.Random) -> None:
        self.host, self.meeting_id, self.token, self.domain = host, meeting_id, token, domain
        self.client_id = f"bench-{meeting_id}"
        self.stats, self.rng, self.line = stats, rng, offset
        self.seq = 0
        self.finals: dict[int, str] = {}  # seq -> final text sent
        self.sent: dict[int, deque] = defaultdict(deque)  # seq -> (send time, is_final, resent) awaiting replies
        self.unacked: dict[int, dict] = {}  # seq -> the newest frame sent for it, until acked
        self.final_at: dict[int, float] = {}  # segment id -> when its final caption was sent
        self.final_seq_at: dict[int, float] = {}  # seq -> when its final was sent (not resent)
        self.waiting: dict[int, list] = defaultdict(list)  # segment id -> events that beat the ack
        self.seen_events: set[int] = set()
        self.first_event: int | None = None
        self.replay_until = 0
        self.ws = None
        self.reader: asyncio.Task | None = None

    async def connect(self, last_event_id: int | None) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(f"ws://{self.host}/ws/meetings/{self.meeting_id}/", origin=ORIGIN,
                                subprotocols=["meetpilot.v1", f"meetpilot.token.{self.token}"], open_timeout=30,
                                max_queue=None)
        await self.ws.send(json.dumps({"type": "hello", "protocol": 1, "client_id": self.client_id,
                                       "last_event_id": last_event_id,
                                       "client": {"name": "bench", "version": "1"},
                                       "participant": {"name": "Dana Seller", "email": f"dana@{self.domain}"}}))
        while True:  # the hello status comes first, then any replay
            frame = json.loads(await self.ws.recv())
            if frame["type"] == "status" and frame["event_id"] is None:
                self.replay_until = frame["data"]["last_event_id"] if last_event_id is not None else 0
                break
        self.reader = asyncio.create_task(self.read(self.ws))

    async def send(self, frame: dict, *, is_final: bool, resent: bool = False) -> None:
        seq = frame["sequence"]
        now = time.perf_counter()
        self.unacked[seq] = frame
        self.sent[seq].append((now, is_final, resent))
        if is_final and not resent:
            self.final_seq_at[seq] = now
        try:
            await self.ws.send(json.dumps(frame))
        except Exception:  # dropped: resent after the reconnect
            pass

    async def read(self, ws) -> None:
        try:
            async for raw in ws:
                self.handle(json.loads(raw), time.perf_counter())
        except Exception:
            pass

    def handle(self, frame: dict, now: float) -> None:
        kind = frame["type"]
        if kind in ("ack", "error"):
            seq = frame.get("sequence")
            if kind == "error":
                self.stats.errors[frame["code"]] += 1
            if seq is None or not self.sent.get(seq):
                return
            sent_at, is_final, resent = self.sent[seq].popleft()
            if not self.sent[seq]:
                self.unacked.pop(seq, None)
            if kind == "ack" and not resent:
                (self.stats.ack_final if is_final else self.stats.ack_interim).append((now - sent_at) * 1000)
            if kind == "ack" and is_final and frame["segment_id"] and seq in self.final_seq_at:
                segment_id = frame["segment_id"]
                self.final_at[segment_id] = self.final_seq_at[seq]
                for event_kind, at in self.waiting.pop(segment_id, []):
                    self.stats.analysis[event_kind].append((at - self.final_at[segment_id]) * 1000)
            return
        event_id = frame.get("event_id")
        if event_id is None:
            return
        self.stats.events_received += 1
        if event_id in self.seen_events:
            self.stats.event_repeats += 1
        self.seen_events.add(event_id)
        self.first_event = event_id if self.first_event is None else min(self.first_event, event_id)
        if event_id <= self.replay_until:
            return  # replayed after a reconnect: its latency includes the outage
        data = frame["data"]
        if kind == "transcript" and data["is_final"] and data["client_id"] == self.client_id:
            sent_at = self.final_seq_at.get(data["client_sequence"])
            if sent_at is not None and not data.get("removed"):
                self.stats.transcript.append((now - sent_at) * 1000)
        elif kind in ANALYSIS_TYPES and data.get("segment_id"):
            segment_id = data["segment_id"]
            if segment_id in self.final_at:
                self.stats.analysis[kind].append((now - self.final_at[segment_id]) * 1000)
            else:
                self.waiting[segment_id].append((kind, now))

    async def utterance(self) -> None:
        speaker, text, _ = script_line(self.line)
        self.line += 1
        self.seq += 1
        seq, words = self.seq, text.split()
        for fraction in (0.35, 0.7):
            partial = " ".join(words[: max(1, int(len(words) * fraction))])
            await self.send({"type": "caption", "sequence": seq, "speaker": speaker, "text": partial,
                             "timestamp": time.time(), "is_final": False}, is_final=False)
            self.stats.interims += 1
            await asyncio.sleep(0.3)
        self.finals[seq] = text
        await self.send({"type": "caption", "sequence": seq, "speaker": speaker, "text": text,
                         "timestamp": time.time(), "is_final": True}, is_final=True)
        self.stats.finals += 1

    async def drop_and_resume(self) -> None:
        """Abort the transport with captions in flight, come back, resume and resend what was not acked."""
        self.ws.transport.abort()
        await asyncio.sleep(self.rng.uniform(0.3, 1.5))
        last = max(self.seen_events) if self.seen_events else 0
        self.sent.clear()
        await self.connect(last_event_id=last)
        self.stats.reconnects += 1
        for seq in sorted(self.unacked):
            frame = self.unacked[seq]
            self.stats.resent += 1
            await self.send(frame, is_final=frame["is_final"], resent=True)

    async def run(self, *, seconds: float, drop: bool) -> None:
        await asyncio.sleep(self.rng.uniform(0, 2.5))  # meetings do not start in lockstep
        await self.connect(last_event_id=None)
        start = time.monotonic()
        dropped = False
        while time.monotonic() - start < seconds:
            await self.utterance()
            if drop and not dropped and time.monotonic() - start > seconds / 2:
                dropped = True
                await self.drop_and_resume()
                continue
            await asyncio.sleep(self.rng.uniform(2.0, 3.0) - 0.6)
        deadline = time.monotonic() + 15
        while self.unacked and time.monotonic() < deadline:  # noqa: ASYNC110 - polling the reader's progress
            await asyncio.sleep(0.1)

    def check_events(self) -> None:
        if self.seen_events:
            expected = set(range(self.first_event, max(self.seen_events) + 1))
            self.stats.event_gaps += len(expected - self.seen_events)

    async def close(self) -> None:
        try:
            await self.ws.close()
        except Exception:
            pass
        if self.reader is not None:
            await asyncio.wait([self.reader], timeout=5)


async def stream(host: str, ctx: dict, meeting_ids: list[int], *, seconds: float, drop: bool,
                 linger: float) -> tuple[Stats, list[MeetingClient], float]:
    stats = Stats()
    rng = random.Random(42)
    clients = [MeetingClient(host=host, meeting_id=mid, token=ctx["token"], domain=ctx["domain"], offset=i * 3,
                             stats=stats, rng=random.Random(rng.random())) for i, mid in enumerate(meeting_ids)]
    started = time.perf_counter()
    await asyncio.gather(*(c.run(seconds=seconds, drop=drop) for c in clients))
    await asyncio.sleep(linger)  # late analysis events still count
    elapsed = time.perf_counter() - started
    for client in clients:
        client.check_events()
    await asyncio.gather(*(c.close() for c in clients))
    return stats, clients, elapsed


# --- main -----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", default="1,20,50,20r", help="meetings per run; suffix r = drop and reconnect")
    parser.add_argument("--seconds", type=float, default=40.0, help="streaming time per run")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark company and its data afterwards")
    args = parser.parse_args()

    print(f"database {os.environ['EMBEDDED_DB_NAME']}, redis {os.environ.get('REDIS_URL') or '(none: in-memory)'}, "
          f"{os.cpu_count()} cores", flush=True)
    django_setup()
    from django.conf import settings

    ctx = setup_company()
    port = free_port()
    daphne = start_daphne(port)
    host = f"127.0.0.1:{port}"
    results = []
    try:
        print("warming up (models load on first use)...", flush=True)
        warm = make_meetings(ctx, 2, "warm-up")
        asyncio.run(stream(host, ctx, warm, seconds=8, drop=False, linger=2))
        for spec in args.runs.split(","):
            drop = spec.endswith("r")
            n = int(spec.rstrip("r"))
            label = f"{n} meetings" + (" + reconnect" if drop else "")
            print(f"run: {label}, {args.seconds:.0f} s ...", flush=True)
            meeting_ids = make_meetings(ctx, n, label)
            stats, clients, elapsed = asyncio.run(stream(host, ctx, meeting_ids, seconds=args.seconds, drop=drop,
                                                         linger=3))
            wait_for_quiet(ctx, meeting_ids)
            check = db_check(ctx, clients)
            results.append((label, stats, elapsed, check))
    finally:
        daphne.terminate()
        try:
            daphne.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daphne.kill()
        if not args.keep:  # the benchmark database keeps only what --keep asks for
            from accounts.tenancy import scopes_disabled

            with scopes_disabled():  # maintenance: the company's rows in every table (row-level security)
                ctx["company"].delete()
                ctx["owner"].delete()

    print()
    print(f"caption rate: 1 final every 2-3 s per meeting, 2 interims before each; analysis workers "
          f"{settings.LIVE_ANALYSIS_WORKERS}; latencies in ms as p50/p95/p99 (n)")
    header = ["run", "finals", "interims", "ack (final)", "ack (interim)", "transcript event", "suggestion",
              "action item", "fact check", "decision", "events/s", "lost", "dup", "event gaps/repeats",
              "resent", "errors"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for label, stats, elapsed, check in results:
        row = [label, str(stats.finals), str(stats.interims), fmt_ms(stats.ack_final), fmt_ms(stats.ack_interim),
               fmt_ms(stats.transcript), fmt_ms(stats.analysis["suggestion"]), fmt_ms(stats.analysis["action_item"]),
               fmt_ms(stats.analysis["fact_check"]), fmt_ms(stats.analysis["decision"]),
               f"{stats.events_received / elapsed:.1f}", str(check["lost"]),
               str(check["duplicated"] + check["mismatched"]), f"{stats.event_gaps}/{stats.event_repeats}",
               str(stats.resent), ",".join(f"{k}:{v}" for k, v in stats.errors.items()) or "0"]
        print("| " + " | ".join(row) + " |")
    print()
    for label, _, _, check in results:
        server = check["server_suggestion_ms"]
        median = f"{statistics.median(server):.0f} ms" if server else "-"
        print(f"{label}: {check['server_events']} events logged; server-side commit-to-suggestion median {median}")
    failed = [label for label, stats, _, check in results
              if check["lost"] or check["duplicated"] or check["mismatched"] or stats.event_gaps]
    if failed:
        print(f"LOSS, DUPLICATES OR GAPS in: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
