"""The live meeting session: limits and analysis settings (all overridable from the environment)."""

from __future__ import annotations

from meetpilot.settings.environment import env

# Largest WebSocket text frame accepted; larger frames get an ``error`` (frame_too_large).
LIVE_MAX_FRAME_BYTES = env.int("LIVE_MAX_FRAME_BYTES", default=64 * 1024)
LIVE_MAX_CAPTION_CHARS = env.int("LIVE_MAX_CAPTION_CHARS", default=5000)
LIVE_MAX_BATCH = env.int("LIVE_MAX_BATCH", default=200)  # captions per REST batch
# Token buckets: frames per second and burst, per connection and per company (shared through Redis).
LIVE_CONNECTION_RATE = env.float("LIVE_CONNECTION_RATE", default=20.0)
LIVE_CONNECTION_BURST = env.int("LIVE_CONNECTION_BURST", default=60)
LIVE_COMPANY_RATE = env.float("LIVE_COMPANY_RATE", default=200.0)
LIVE_COMPANY_BURST = env.int("LIVE_COMPANY_BURST", default=400)
LIVE_ASK_RATE = env.float("LIVE_ASK_RATE", default=0.5)
LIVE_ASK_BURST = env.int("LIVE_ASK_BURST", default=5)
# A connection that sends nothing (not even a ping) for this long is closed with 4408.
LIVE_IDLE_TIMEOUT_SECONDS = env.float("LIVE_IDLE_TIMEOUT_SECONDS", default=90.0)
# Two final captions with the same normalised speaker + text this close together are one caption.
LIVE_DUPLICATE_WINDOW_SECONDS = env.float("LIVE_DUPLICATE_WINDOW_SECONDS", default=20.0)
# Events sent per replay page when a client resumes.
LIVE_REPLAY_PAGE = env.int("LIVE_REPLAY_PAGE", default=500)
# Analysis of final captions: threads per process, and the most jobs waiting per meeting.
LIVE_ANALYSIS_WORKERS = env.int("LIVE_ANALYSIS_WORKERS", default=4)
# Knowledge-base answers (suggestions and ask) have a pool of their own: they may wait on an LLM.
LIVE_ANSWER_WORKERS = env.int("LIVE_ANSWER_WORKERS", default=4)
LIVE_ANALYSIS_MAX_PENDING = env.int("LIVE_ANALYSIS_MAX_PENDING", default=500)
# "thread" (default: a bounded pool per web process), "worker" (web processes only store and ack;
# ``manage.py live_worker`` processes analyse) or "inline" (run after commit in the caller; tests, scripts).
LIVE_ANALYSIS_MODE = env.str("LIVE_ANALYSIS_MODE", default="thread")
LIVE_WORKER_POLL_SECONDS = env.float("LIVE_WORKER_POLL_SECONDS", default=0.2)  # how often a live_worker looks
# A live_worker lowers its CPU priority by this much (nice), so that web processes on the same machine come first.
LIVE_WORKER_NICE = env.int("LIVE_WORKER_NICE", default=10)
# Threads per process for the database work of live connections (each keeps its own connection).
LIVE_DB_THREADS = env.int("LIVE_DB_THREADS", default=8)
# The live path's hot statements are prepared on the server once per connection (meetings.live.sql). Off behind a
# pooler that cannot keep prepared statements (PgBouncer in transaction mode before 1.22, or without
# max_prepared_statements).
LIVE_PREPARED_STATEMENTS = env.bool("LIVE_PREPARED_STATEMENTS", default=True)
# How long a process remembers a company's model routes for live analysis (each final caption needs two
# or three); a change saved in the same process applies at once.
LIVE_ROUTE_CACHE_SECONDS = env.float("LIVE_ROUTE_CACHE_SECONDS", default=5.0)
LIVE_ROLE_WINDOW = env.int("LIVE_ROLE_WINDOW", default=200)  # utterances considered when inferring roles
# Roles are re-learnt on every final line while someone's is unknown, then on every this many lines.
LIVE_ROLE_EVERY = env.int("LIVE_ROLE_EVERY", default=5)
# Live audio (binary frames or audio_chunk): audio frames per second per connection (apart from the
# frame bucket above), and the most audio in seconds waiting for transcription on one connection
# before further chunks are refused with rate_limited (not acked: the client resends them).
LIVE_AUDIO_FRAME_RATE = env.float("LIVE_AUDIO_FRAME_RATE", default=100.0)
LIVE_AUDIO_FRAME_BURST = env.int("LIVE_AUDIO_FRAME_BURST", default=1000)
LIVE_AUDIO_MAX_BACKLOG_SECONDS = env.float("LIVE_AUDIO_MAX_BACKLOG_SECONDS", default=120.0)
# Load the local live audio engine's voice activity model when a server process starts: loading it on a
# meeting's first audio holds the interpreter for a second or two while every socket waits.
LIVE_AUDIO_PRELOAD = env.bool("LIVE_AUDIO_PRELOAD", default=True)
# Durable live analysis (meetings.live.backlog): a process analyses a meeting while it holds the
# meeting's lease, renewed as it goes; a crashed process's lease lapses after this long.
LIVE_ANALYSIS_LEASE_SECONDS = env.float("LIVE_ANALYSIS_LEASE_SECONDS", default=30.0)
# Each web process looks this often (seconds; 0: never) for meetings whose owed analysis waited
# LIVE_ANALYSIS_SWEEP_AFTER_SECONDS with nobody holding their lease, and analyses them.
LIVE_ANALYSIS_SWEEP_SECONDS = env.float("LIVE_ANALYSIS_SWEEP_SECONDS", default=15.0)
LIVE_ANALYSIS_SWEEP_AFTER_SECONDS = env.float("LIVE_ANALYSIS_SWEEP_AFTER_SECONDS", default=10.0)
LIVE_ANALYSIS_BATCH = env.int("LIVE_ANALYSIS_BATCH", default=20)  # segments read per backlog query
# Testing only: seconds each segment's analysis waits before writing its results (crash tests).
LIVE_ANALYSIS_DELAY_SECONDS = env.float("LIVE_ANALYSIS_DELAY_SECONDS", default=0.0)
# Back-pressure (meetings.live.load): the process is busy when the caption ack time (moving average,
# ms) or the event loop's lateness (ms) passes these; ok again after both stayed under half for
# LIVE_BUSY_HOLD_SECONDS. While busy, interims are coalesced per speaker, clients get a status
# frame to slow down and live analysis runs on LIVE_BUSY_ANALYSIS_WORKERS threads only.
LIVE_BUSY_ACK_MS = env.float("LIVE_BUSY_ACK_MS", default=100.0)
LIVE_BUSY_LOOP_LAG_MS = env.float("LIVE_BUSY_LOOP_LAG_MS", default=100.0)
LIVE_BUSY_HOLD_SECONDS = env.float("LIVE_BUSY_HOLD_SECONDS", default=3.0)
LIVE_BUSY_ANALYSIS_WORKERS = env.int("LIVE_BUSY_ANALYSIS_WORKERS", default=1)
LIVE_BUSY_MAX_DEFER_SECONDS = env.float("LIVE_BUSY_MAX_DEFER_SECONDS", default=10.0)  # then it runs anyway
LIVE_BUSY_LOOP_PROBE_SECONDS = env.float("LIVE_BUSY_LOOP_PROBE_SECONDS", default=0.1)
# While busy, a held interim is stored this long after it arrived unless a newer one replaced it.
LIVE_INTERIM_FLUSH_SECONDS = env.float("LIVE_INTERIM_FLUSH_SECONDS", default=0.3)

# The catch-up sweep through Celery beat too (covers meetings no web process is running for).
LIVE_BEAT_SCHEDULE = {
    "live-analysis-sweep": {"task": "meetings.live_analysis_sweep", "schedule": 60.0},
}

# A stretch of at least this many seconds without a caption while a meeting ran counts as not captured
# (meetings.capture): the meeting page and the report say so.
CAPTURE_SILENCE_SECONDS = env.int("CAPTURE_SILENCE_SECONDS", default=120)
