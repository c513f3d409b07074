"""Schema-driven fuzzing of the HTTP API with schemathesis, against a running server.

``run_fuzz`` drives the schemathesis command line (examples, coverage, fuzzing and stateful phases:
the stateful phase follows the links ``meetpilot.api`` adds from create to read/update/delete
operations, and the ones schemathesis infers) against ``<base_url>/api/v1/openapi.json`` with a
real API token, records every exchange in a HAR file and counts requests and server errors from it.
Used by ``tests/hardening/test_fuzz.py`` (a bounded, seeded run in ``make test``) and ``make fuzz``
(the full run).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import requests

SCHEMATHESIS = [sys.executable, "-m", "schemathesis.cli"]
# Checks that must hold on every response. Status codes and headers are documented per operation by
# ninja only for what the handler declares, so conformance of those is not required (yet).
CHECKS = "not_a_server_error,response_schema_conformance"


@dataclass
class FuzzResult:
    requests: int
    server_errors: list[dict] = field(default_factory=list)
    by_operation: dict[str, int] = field(default_factory=dict)
    exit_code: int = 0
    output: str = ""

    def summary(self) -> str:
        return f"fuzz: {self.requests} requests, {len(self.server_errors)} server errors"


def run_fuzz(*, base_url: str, token: str, report_dir: Path, max_examples: int, seed: int,
             max_time: int | None = None, phases: str = "examples,coverage,fuzzing,stateful",
             checks: str = CHECKS, timeout: float = 3600) -> FuzzResult:
    report_dir.mkdir(parents=True, exist_ok=True)
    har = report_dir / "fuzz.har"
    schema_url = f"{base_url}/api/v1/openapi.json"
    # The server builds the schema once, on its first request (seconds on a busy machine); schemathesis
    # gives the schema 10 s, so build it first.
    requests.get(schema_url, timeout=300).raise_for_status()
    command = [
        *SCHEMATHESIS, "run", schema_url,
        "--header", f"Authorization: Bearer {token}",
        "--checks", checks,
        "--phases", phases,
        "--max-examples", str(max_examples),
        "--seed", str(seed),
        "--generation-database", "none",
        "--no-shrink",
        "--workers", "1",
        "--request-timeout", "30",
        "--suppress-health-check", "all",
        "--continue-on-failure",
        "--report", "har", "--report-har-path", str(har),
        "--no-color", "--output-truncate", "true",
        "--warnings", "off",
    ]
    if max_time:
        command += ["--max-time", str(max_time)]
    # In the report folder: schemathesis keeps a cache of its own in the working directory.
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, cwd=report_dir)
    result = FuzzResult(requests=0, exit_code=done.returncode, output=done.stdout + done.stderr)
    if not har.exists():
        return result
    for entry in json.loads(har.read_text())["log"]["entries"]:
        request, response = entry["request"], entry["response"]
        if "/openapi.json" in request["url"]:
            continue
        result.requests += 1
        path = request["url"].split("?", 1)[0].removeprefix(base_url)
        key = f"{request['method']} {path}"
        result.by_operation[key] = result.by_operation.get(key, 0) + 1
        if response["status"] >= 500:
            result.server_errors.append({
                "request": f"{request['method']} {request['url']}",
                "body": (request.get("postData") or {}).get("text", "")[:500],
                "status": response["status"],
                "response": (response.get("content") or {}).get("text", "")[:500],
            })
    return result
