# MeetPilot: `make run` starts everything, `make test` runs every test. Both install what they need.
SHELL := /bin/bash
PORT ?= 8000
VENV := .venv/bin
PYTEST_ARGS ?=

.PHONY: install run test lint fmt bench bench-live bench-speech bench-knowledge eval db-stop clean

install:
	@scripts/bootstrap.sh

run: install
	@REDIS_URL="$$(scripts/redis-url.sh 0)" PORT=$(PORT) $(VENV)/python scripts/run.py

test: install
	@REDIS_URL="$$(scripts/redis-url.sh 9)" CHANNEL_LAYER_PREFIX=meetpilot-test CELERY_QUEUE=meetpilot-test \
		$(VENV)/ruff check . && \
	REDIS_URL="$$(scripts/redis-url.sh 9)" CHANNEL_LAYER_PREFIX=meetpilot-test CELERY_QUEUE=meetpilot-test \
		$(VENV)/pytest $(PYTEST_ARGS)

lint: install
	@$(VENV)/ruff check . && $(VENV)/ruff format --check .

fmt:
	@$(VENV)/ruff check --fix . ; $(VENV)/ruff format .

db-stop:
	@[ -f var/pg/postmaster.pid ] && su pgserver -s /bin/sh -c "$$($(VENV)/python -c 'import pgserver._commands as c;print(c.POSTGRES_BIN_PATH)')/pg_ctl -D $(CURDIR)/var/pg stop" 2>/dev/null \
		|| $(VENV)/python -c "import pgserver._commands as c,subprocess;subprocess.run([str(c.POSTGRES_BIN_PATH/'pg_ctl'),'-D','var/pg','stop'])" || true

clean: db-stop
	rm -rf var .venv

# Live meeting sessions under load: real daphne + websockets clients, its own database (see bench/live.py).
bench-live: install
	@REDIS_URL="$$(scripts/redis-url.sh 10)" EMBEDDED_DB_NAME=meetpilot_bench \
		$(VENV)/python bench/live.py $(BENCH_LIVE_ARGS)

# Speech: file RTF, WER, DER and live latency on generated meetings (see bench/speech.py).
bench-speech: install
	@$(VENV)/python bench/speech.py $(BENCH_SPEECH_ARGS)

# Meeting-analysis quality on the labelled transcripts in eval/data (add EVAL_ARGS="--provider llm" or "--errors").
eval: install
	@$(VENV)/python eval/run.py $(EVAL_ARGS)

# Knowledge base: ingestion throughput, retrieval quality, query latency at 10k/100k chunks (see bench/knowledge.py).
bench-knowledge: install
	@EMBEDDED_DB_NAME=meetpilot_bench_knowledge $(VENV)/python bench/knowledge.py $(BENCH_KNOWLEDGE_ARGS)

# Every benchmark, one after the other (about 15 minutes on 2 cores).
bench: bench-knowledge bench-live bench-speech
