# MeetPilot: `make run` starts everything, `make test` runs every test. Both install what they need.
SHELL := /bin/bash
PORT ?= 8000
VENV := .venv/bin
PYTEST_ARGS ?=

.PHONY: install run test lint fmt bench bench-live bench-speech bench-knowledge bench-search bench-analysis bench-rls eval \
	eval-llm eval-regression train fuzz db-stop clean

install:
	@scripts/bootstrap.sh

run: install
	@REDIS_URL="$$(scripts/redis-url.sh 0)" PORT=$(PORT) $(VENV)/python scripts/run.py

test: install
	@node --test --test-reporter=dot extension/test/*.test.js && \
	REDIS_URL="$$(scripts/redis-url.sh 9)" CHANNEL_LAYER_PREFIX=meetpilot-test CELERY_QUEUE=meetpilot-test \
		$(VENV)/ruff check . && \
	REDIS_URL="$$(scripts/redis-url.sh 9)" CHANNEL_LAYER_PREFIX=meetpilot-test CELERY_QUEUE=meetpilot-test \
		$(VENV)/pytest $(PYTEST_ARGS)

# Schema-driven fuzzing of the HTTP API (schemathesis against a live server, all phases, about 15 minutes):
# prints how many requests were sent and how many server errors came back (FUZZ_MAX_TIME, FUZZ_MAX_EXAMPLES, FUZZ_SEED).
fuzz: install
	@REDIS_URL="$$(scripts/redis-url.sh 9)" CHANNEL_LAYER_PREFIX=meetpilot-fuzz CELERY_QUEUE=meetpilot-fuzz FUZZ_FULL=1 \
		$(VENV)/pytest -q -s -p no:cacheprovider tests/hardening/test_fuzz.py $(PYTEST_ARGS)

lint: install
	@$(VENV)/ruff check . && $(VENV)/ruff format --check .

fmt:
	@$(VENV)/ruff check --fix . ; $(VENV)/ruff format .

db-stop:
	@[ -f var/pg/postmaster.pid ] && su pgserver -s /bin/sh -c "$$($(VENV)/python -c 'import pgserver._commands as c;print(c.POSTGRES_BIN_PATH)')/pg_ctl -D $(CURDIR)/var/pg stop" 2>/dev/null \
		|| $(VENV)/python -c "import pgserver._commands as c,subprocess;subprocess.run([str(c.POSTGRES_BIN_PATH/'pg_ctl'),'-D','var/pg','stop'])" || true

clean: db-stop
	rm -rf var .venv

# Live meeting sessions: the saturation point of 1 and 2 daphnes (real websockets clients, its own database;
# ~10 min). Quick look: make bench-live BENCH_LIVE_ARGS="--daphnes 1 --steps 20,50 --seconds 10" (see bench/live.py).
bench-live: install
	@REDIS_URL="$$(scripts/redis-url.sh 10)" EMBEDDED_DB_NAME=meetpilot_bench \
		$(VENV)/python bench/live.py $(BENCH_LIVE_ARGS)

# Speech: file RTF, WER, DER and live latency on generated meetings (see bench/speech.py).
bench-speech: install
	@$(VENV)/python bench/speech.py $(BENCH_SPEECH_ARGS)

# Quality on real meetings (AMI ES dev, QMSum val dev from EVAL_DATA_DIR, default ../shared/datasets), each figure
# beside a baseline from the same run: action items and decisions, spoken-number fact checks, meeting search
# (about 20 minutes on 2 cores; one section: EVAL_ARGS="actions").
eval: install
	@$(VENV)/python -m eval.real.run $(EVAL_ARGS)

# The language-model path against a real OpenAI-compatible server on 127.0.0.1 (llama.cpp's server built from the
# llama-cpp-python sdist, Gemma 3 270M from PyPI; the first run builds it, several minutes).
eval-llm: install
	@scripts/eval-llm.sh $(EVAL_LLM_ARGS)

# The self-written labelled transcripts in eval/data (regression figures only; add EVAL_ARGS="--errors").
eval-regression: install
	@$(VENV)/python eval/run.py $(EVAL_ARGS)

# Rebuild the action-item / decision detector weights (meetings/analysis/weights) from the AMI ES dev meetings.
train: install
	@$(VENV)/python -m eval.real.train_detector $(TRAIN_ARGS)
	@$(VENV)/python -m eval.real.train_search

# Knowledge base: ingestion throughput, retrieval quality, query latency at 10k/100k chunks (see bench/knowledge.py).
bench-knowledge: install
	@EMBEDDED_DB_NAME=meetpilot_bench_knowledge $(VENV)/python bench/knowledge.py $(BENCH_KNOWLEDGE_ARGS)

# Meeting search: indexing a 2-hour meeting, search latency at 35/100/500 meetings (see bench/search.py).
bench-search: install
	@EMBEDDED_DB_NAME=meetpilot_bench_search $(VENV)/python bench/search.py $(BENCH_SEARCH_ARGS)

# Meeting analysis: a 2-hour meeting's after-meeting analysis, a caption's fact check (see bench/analysis.py).
bench-analysis: install
	@$(VENV)/python bench/analysis.py $(BENCH_ANALYSIS_ARGS)

# Row-level security: queries per second as the owner (no policies) and as the app role (see bench/rls.py).
bench-rls: install
	@EMBEDDED_DB_NAME=meetpilot_bench_rls $(VENV)/python bench/rls.py $(BENCH_RLS_ARGS)

# Every benchmark, one after the other (about 30 minutes on 2 cores).
bench: bench-knowledge bench-live bench-speech bench-search bench-analysis bench-rls
