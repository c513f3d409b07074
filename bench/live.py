#!/usr/bin/env python
"""Benchmark of the live meeting session (``make bench-live``); a measurement, not a test.

Finds the saturation point: the most concurrent meetings one daphne (and two daphnes behind one
Redis) carries at a realistic pace while caption ack p95 <= 150 ms and suggestion p95 <= 1 s.
Each step streams N sales meetings for a fixed time, each from one ``websockets`` client speaking
protocol v1: one final caption every 2-3 s per meeting, each preceded by two interims; 10% of the
meetings also stream audio (200 ms PCM16 chunks of quiet noise: the socket and ack cost of audio,
not transcription, which bench-speech measures). Steps go 20, 50, 100, 200, 400 meetings and stop
after the first step that misses a target: that step shows what the server sheds past saturation
(``status`` busy frames, coalesced interims, deferred analysis) and whether acks stay fast.

The servers run against their own database (EMBEDDED_DB_NAME, default meetpilot_bench) and Redis
prefix. Clients honour ``send_interims: false`` (as the extension does) unless --ignore-status.
Printed per step: ack (final, interim, audio) and caption-to-event latency (transcript,
suggestion, action item, fact check) p50/p95, status frames and coalesced interims, lost and
duplicated captions counted from the database, and the CPU time per final caption of the server
processes (daphnes, live workers) and of the embedded PostgreSQL server, from the step's first
frame until its analysis has drained: what the machine paid per caption, a second view beside
latencies (on a shared machine both move with the other work).

    make bench-live                                         # 1 and 2 daphnes, 25 s per step (~10 min)
    make bench-live BENCH_LIVE_ARGS="--setups 1,2,1+1,1+2"  # and 1 daphne with 1 or 2 live_worker processes
    make bench-live BENCH_LIVE_ARGS="--daphnes 1 --steps 20,50 --seconds 10"   # a quick look (~2 min)
    .venv/bin/python bench/live.py --steps 20 --seconds 30 --drop             # one run with reconnects
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
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
# Every bench meeting belongs to one company: 200 meetings send about 240 frames/s, over the default per-company
# caption rate (200/s, shared by all processes through Redis). That limit keeps one tenant from flooding the
# servers; what is measured here is what the servers carry, so it is raised.
os.environ.setdefault("LIVE_COMPANY_RATE", "5000")
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
    with tenant_scope(company):  # row-level security: the company's rows are written in its scope
        token = account_services.api_token_create(company=company, user=owner, name="bench").raw_token
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
    ack_audio: list[float] = field(default_factory=list)
    busy_frames: int = 0
    ok_frames: int = 0
    coalesced: int = 0
    interims_skipped: int = 0
    audio_chunks: int = 0


class MeetingClient:
    def __init__(self, *, host: str, meeting_id: int, token: str, domain: str, offset: int, stats: Stats,
                 rng: random.Random, audio: bool = False, honour_status: bool = True) -> None:
        self.host, self.meeting_id, self.token, self.domain = host, meeting_id, token, domain
        self.audio, self.honour_status, self.told_busy = audio, honour_status, False
        self.audio_seq = 0
        self.audio_sent: dict[int, float] = {}
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
            if frame["type"] == "status" and frame["event_id"] is None and frame["data"]["kind"] == "hello":
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
        if kind == "status" and frame["data"].get("kind") == "load":
            self.told_busy = frame["data"]["state"] == "busy"
            if self.told_busy:
                self.stats.busy_frames += 1
            else:
                self.stats.ok_frames += 1
            return
        if kind == "ack" and frame.get("stream") == "audio":
            sent_at = self.audio_sent.pop(frame["sequence"], None)
            if sent_at is not None:
                self.stats.ack_audio.append((now - sent_at) * 1000)
            return
        if kind in ("ack", "error"):
            seq = frame.get("sequence")
            if kind == "ack" and frame.get("status") == "coalesced":
                self.stats.coalesced += 1
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
            if self.told_busy and self.honour_status:  # the server asked for final captions only
                self.stats.interims_skipped += 1
                await asyncio.sleep(0.3)
                continue
            partial = " ".join(words[: max(1, int(len(words) * fraction))])
            await self.send({"type": "caption", "sequence": seq, "speaker": speaker, "text": partial,
                             "timestamp": time.time(), "is_final": False}, is_final=False)
            self.stats.interims += 1
            await asyncio.sleep(0.3)
        self.finals[seq] = text
        await self.send({"type": "caption", "sequence": seq, "speaker": speaker, "text": text,
                         "timestamp": time.time(), "is_final": True}, is_final=True)
        self.stats.finals += 1

    async def stream_audio(self, seconds: float) -> None:
        """200 ms PCM16 chunks of quiet noise in real time, as binary frames (sequence header + samples)."""
        import struct

        rng = random.Random(self.meeting_id)
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            samples = struct.pack(f"<{3200}h", *(rng.randint(-40, 40) for _ in range(3200)))
            self.audio_seq += 1
            self.audio_sent[self.audio_seq] = time.perf_counter()
            try:
                await self.ws.send(struct.pack(">I", self.audio_seq) + samples)
                self.stats.audio_chunks += 1
            except Exception:
                pass
            await asyncio.sleep(0.2)

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
        try:
            await self.connect(last_event_id=None)
        except Exception:  # refused or timed out past saturation: counted, and the step fails
            self.stats.errors["connect_failed"] += 1
            return
        start = time.monotonic()
        dropped = False
        audio = asyncio.create_task(self.stream_audio(seconds)) if self.audio else None
        while time.monotonic() - start < seconds:
            await self.utterance()
            if drop and not dropped and time.monotonic() - start > seconds / 2:
                dropped = True
                await self.drop_and_resume()
                continue
            await asyncio.sleep(self.rng.uniform(2.0, 3.0) - 0.6)
        if audio is not None:
            await audio
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


async def stream(hosts: list[str], ctx: dict, meeting_ids: list[int], *, seconds: float, drop: bool,
                 linger: float, audio_share: float = 0.0, honour_status: bool = True
                 ) -> tuple[Stats, list[MeetingClient], float]:
    stats = Stats()
    rng = random.Random(42)
    audio_every = round(1 / audio_share) if audio_share > 0 else 0
    clients = [MeetingClient(host=hosts[i % len(hosts)], meeting_id=mid, token=ctx["token"], domain=ctx["domain"],
                             offset=i * 3, stats=stats, rng=random.Random(rng.random()),
                             audio=bool(audio_every) and i % audio_every == audio_every - 1,
                             honour_status=honour_status)
               for i, mid in enumerate(meeting_ids)]
    started = time.perf_counter()
    await asyncio.gather(*(c.run(seconds=seconds, drop=drop) for c in clients))
    await asyncio.sleep(linger)  # late analysis events still count
    elapsed = time.perf_counter() - started
    for client in clients:
        client.check_events()
    await asyncio.gather(*(c.close() for c in clients))
    return stats, clients, elapsed


# --- main -----------------------------------------------------------------------------------------------

ACK_P95_MS = 150.0
SUGGESTION_P95_MS = 1000.0


def p(values: list[float], q: float) -> float | None:
    return percentile(values, q) if values else None


def fmt2(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{percentile(values, 0.5):.0f}/{percentile(values, 0.95):.0f}"


def start_servers(count: int, workers: int) -> tuple[list[subprocess.Popen], list[str]]:
    """``count`` daphnes, and ``workers`` live_worker processes (then analysis runs only there)."""
    processes, hosts = [], []
    for _ in range(count):
        port = free_port()
        processes.append(start_daphne(port))
        hosts.append(f"127.0.0.1:{port}")
    for i in range(workers):
        log = open(ROOT / "var" / f"bench-live-worker-{i}.log", "w")  # noqa: SIM115 - lives as long as the process
        processes.append(subprocess.Popen([sys.executable, "manage.py", "live_worker"], cwd=ROOT, env=dict(os.environ),
                                          stdout=log, stderr=subprocess.STDOUT))
    return processes, hosts


def parse_setups(args: argparse.Namespace) -> list[tuple[int, int]]:
    """(daphnes, live workers) per search: ``--setups 1,2,1+1`` or, without it, ``--daphnes`` with ``--mode``."""
    if args.setups:
        setups = []
        for item in args.setups.split(","):
            daphnes, _, workers = item.partition("+")
            setups.append((int(daphnes), int(workers or 0)))
        return setups
    workers = args.workers if args.mode == "worker" else 0
    return [(int(c), workers) for c in args.daphnes.split(",")]


def setup_title(daphnes: int, workers: int) -> str:
    title = f"{daphnes} daphne" + ("s" if daphnes > 1 else "") + " behind one Redis" * (daphnes > 1)
    if workers:
        title += f" + {workers} live worker" + ("s" if workers > 1 else "") + " (LIVE_ANALYSIS_MODE=worker)"
    return title


def stop_servers(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def profile_start(pid: int, seconds: float, label: str) -> subprocess.Popen | None:
    """py-spy on one server process for the step: collapsed stacks of the thread holding the GIL."""
    out = ROOT / "var" / f"bench-live-profile-{label}.txt"
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        print("  (py-spy is not installed: no profile)")
        return None
    print(f"  profiling process {pid} into {out}", flush=True)
    return subprocess.Popen([str(spy), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "50",
                             "--format", "raw", "--gil", "--nonblocking", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def database_pids() -> list[int]:
    """The embedded PostgreSQL server's processes (postmaster and backends), when the benchmark runs on it."""
    from django.conf import settings

    pid_file = Path(settings.DATABASES["default"]["HOST"]) / "postmaster.pid"
    try:
        import psutil

        postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
        return [postmaster.pid] + [child.pid for child in postmaster.children(recursive=True)]
    except Exception:  # another server (DATABASE_URL), or no psutil: no database column
        return []


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds per process so far (processes that are gone are left out)."""
    import psutil

    out = {}
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        out[pid] = times.user + times.system
    return out


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two samples; a process that started meanwhile counts from zero."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def run_step(ctx: dict, hosts: list[str], n: int, label: str, args: argparse.Namespace,
             pids: list[int] | None = None, servers: list[int] | None = None, workers: int = 0) -> dict:
    """``servers``: the daphne and (the last ``workers`` of them) live_worker processes whose CPU per final caption
    is reported, with the database's and the benchmark's own (its clients), from the first frame until the
    analysis has drained: what the machine paid per caption."""
    meeting_ids = make_meetings(ctx, n, label)
    servers = servers or []
    groups = {"daphnes": servers[:len(servers) - workers], "workers": servers[len(servers) - workers:],
              "database": database_pids(), "clients": [os.getpid()]}
    before = {name: cpu_seconds(group) for name, group in groups.items()}
    # The first daphne, and each live worker (the processes after the daphnes).
    pids = pids if args.profile else []
    spies = [profile_start(pid, args.seconds, f"{label}-{i}") for i, pid in enumerate(pids or [])]
    stats, clients, elapsed = asyncio.run(stream(hosts, ctx, meeting_ids, seconds=args.seconds, drop=args.drop,
                                                 linger=3, audio_share=args.audio_share,
                                                 honour_status=not args.ignore_status))
    for spy in spies:
        if spy is not None:
            spy.wait(timeout=60)
    wait_for_quiet(ctx, meeting_ids, limit=30)
    groups["database"] = database_pids()  # its backends come and go
    split = {name: cpu_used(before[name], cpu_seconds(group)) for name, group in groups.items()}
    cpu = (split["daphnes"] + split["workers"], split["database"])
    check = db_check(ctx, clients)
    ack95, sugg95 = p(stats.ack_final, 0.95), p(stats.analysis["suggestion"], 0.95)
    ok = (ack95 is not None and ack95 <= ACK_P95_MS and sugg95 is not None and sugg95 <= SUGGESTION_P95_MS
          and not check["lost"] and not check["duplicated"] and not check["mismatched"]
          and not stats.errors["connect_failed"])
    return {"n": n, "stats": stats, "elapsed": elapsed, "check": check, "ok": ok, "cpu": cpu, "cpu_split": split}


def print_table(title: str, steps: list[dict]) -> None:
    print(f"\n{title}: latencies in ms as p50/p95; targets ack p95 <= {ACK_P95_MS:.0f}, suggestion p95 <= "
          f"{SUGGESTION_P95_MS:.0f}")
    header = ["meetings", "finals", "interims (skipped)", "ack final", "ack interim", "ack audio", "transcript",
              "suggestion", "action item", "fact check", "busy/ok frames", "coalesced", "events/s", "lost/dup/gaps",
              "CPU ms/final (servers/db)", "target met"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for step in steps:
        stats, check = step["stats"], step["check"]
        row = [str(step["n"]), str(stats.finals), f"{stats.interims} ({stats.interims_skipped})",
               fmt2(stats.ack_final), fmt2(stats.ack_interim), fmt2(stats.ack_audio), fmt2(stats.transcript),
               fmt2(stats.analysis["suggestion"]), fmt2(stats.analysis["action_item"]),
               fmt2(stats.analysis["fact_check"]), f"{stats.busy_frames}/{stats.ok_frames}", str(stats.coalesced),
               f"{stats.events_received / step['elapsed']:.1f}",
               f"{check['lost']}/{check['duplicated'] + check['mismatched']}/{stats.event_gaps}",
               "/".join(f"{1000 * c / max(1, stats.finals):.0f}" for c in step["cpu"]),
               "yes" if step["ok"] else "NO"]
        print("| " + " | ".join(row) + " |")
    passing = [step["n"] for step in steps if step["ok"]]
    print(f"saturation point ({title}): {max(passing) if passing else 'below ' + str(steps[0]['n'])} meetings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--steps", default="20,50,100,200,400", help="meetings per step, ascending")
    parser.add_argument("--seconds", type=float, default=25.0, help="streaming time per step")
    parser.add_argument("--daphnes", default="1,2", help="server processes per search, e.g. 1,2")
    parser.add_argument("--mode", default=os.environ.get("LIVE_ANALYSIS_MODE", "thread"),
                        choices=["thread", "worker"], help="analysis in the web processes, or in live_worker processes")
    parser.add_argument("--workers", type=int, default=1, help="live_worker processes with --mode worker")
    parser.add_argument("--setups", default="",
                        help="searches as DAPHNES[+WORKERS], e.g. 1,2,1+1,1+2 (a +WORKERS setup runs analysis "
                             "in that many live_worker processes); overrides --daphnes and --mode")
    parser.add_argument("--audio-share", type=float, default=0.1, help="share of meetings also streaming audio")
    parser.add_argument("--all-steps", action="store_true", help="do not stop after the first step past saturation")
    parser.add_argument("--drop", action="store_true", help="drop every client mid-step and resume")
    parser.add_argument("--ignore-status", action="store_true", help="clients keep sending interims when told not to")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark company and its data afterwards")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy the first daphne and each live worker during each step (var/)")
    args = parser.parse_args()
    setups = parse_setups(args)

    print(f"database {os.environ['EMBEDDED_DB_NAME']}, redis {os.environ.get('REDIS_URL') or '(none: in-memory)'}, "
          f"{os.cpu_count()} cores, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}, setups "
          f"{', '.join(setup_title(d, w) for d, w in setups)}", flush=True)
    django_setup()
    from django.conf import settings

    ctx = setup_company()
    searches = []
    failed = []
    try:
        for count, workers in setups:
            title = setup_title(count, workers)
            # The servers read the mode from the environment they start with.
            os.environ["LIVE_ANALYSIS_MODE"] = "worker" if workers else "thread"
            processes, hosts = start_servers(count, workers)
            steps = []
            try:
                print(f"{title}: warming up (models load on first use)...", flush=True)
                asyncio.run(stream(hosts, ctx, make_meetings(ctx, 2 * count, "warm-up"), seconds=8, drop=False,
                                   linger=2, audio_share=1.0 if args.audio_share > 0 else 0.0))  # audio too
                for n in [int(x) for x in args.steps.split(",")]:
                    print(f"{title}: {n} meetings, {args.seconds:.0f} s ...", flush=True)
                    step = run_step(ctx, hosts, n, f"{count}+{workers}x{n}", args,
                                    pids=[processes[0].pid] + [p.pid for p in processes[count:]],
                                    servers=[p.pid for p in processes], workers=workers)
                    steps.append(step)
                    stats = step["stats"]
                    print(f"  ack p95 {p(stats.ack_final, 0.95) or 0:.0f} ms, suggestion p95 "
                          f"{p(stats.analysis['suggestion'], 0.95) or 0:.0f} ms, busy frames {stats.busy_frames}, "
                          f"CPU ms per final {1000 * step['cpu'][0] / max(1, stats.finals):.0f} servers + "
                          f"{1000 * step['cpu'][1] / max(1, stats.finals):.0f} database ("
                          + ", ".join(f"{name} {1000 * seconds / max(1, stats.finals):.1f}"
                                      for name, seconds in step["cpu_split"].items()) + ")"
                          + (f", error frames and failed connects {dict(stats.errors)}" if stats.errors else "")
                          + f" -> {'ok' if step['ok'] else 'past saturation'}", flush=True)
                    if step["check"]["lost"] or step["check"]["duplicated"] or step["check"]["mismatched"]:
                        failed.append(f"{title} at {n}")
                    if not step["ok"] and not args.all_steps:
                        break
            finally:
                stop_servers(processes)
            searches.append((title, steps))
    finally:
        if not args.keep:  # the benchmark database keeps only what --keep asks for
            from accounts.tenancy import tenant_scope

            with tenant_scope(ctx["company"]):  # deleting meetings also unindexes them, company by company
                ctx["company"].delete()
            ctx["owner"].delete()

    print()
    print(f"pace: 1 final caption every 2-3 s per meeting, 2 interims before each; {args.audio_share:.0%} of meetings "
          f"stream audio; {args.seconds:.0f} s per step; {settings.LIVE_ANALYSIS_WORKERS} analysis threads per "
          f"process; the clients run on the same machine; load average after the run "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for title, steps in searches:
        print_table(title, steps)
    if failed:
        print(f"LOSS OR DUPLICATES in: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
