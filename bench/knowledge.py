#!/usr/bin/env python
"""Benchmark of the knowledge base (``make bench-knowledge``); a measurement, not a test.

Runs against a database of its own (EMBEDDED_DB_NAME, default meetpilot_bench_knowledge, on the
same server), created and migrated here and dropped at the end (``--keep`` keeps it).

1. Ingestion: a generated corpus of PDFs (project documents with known facts) goes through the
   real ingestion task (extract, chunk, embed, store); pages/s and chunks/s, against the local
   embedder's raw throughput on the very same chunk texts, measured in the same run.
2. Retrieval quality on that corpus: recall@5 and MRR of hybrid, full-text-only and vector-only
   retrieval for a question set built from the facts (paraphrases, names, error codes).
3. Latency at 10k and 100k chunks in one company (synthetic but realistic chunks: sentences from a
   generated bank, embeddings composed from real embeddings of those sentences, loaded with
   binary COPY), with a small company sharing the table: p50/p95 of vector-only, full-text-only
   and hybrid ``chunks_search`` excluding the question embedding, which is timed separately;
   per-company recall@10 of the vector search against exact search.

    make bench-knowledge
    .venv/bin/python bench/knowledge.py --big 100000 --queries 200
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("EMBEDDED_DB_NAME", "meetpilot_bench_knowledge")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetpilot.settings.base")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["EMBEDDINGS_PROVIDER"] = "local"
if os.environ["EMBEDDED_DB_NAME"] in ("", "meetpilot") or os.environ.get("DATABASE_URL"):
    sys.exit("refusing to benchmark against the development database: set EMBEDDED_DB_NAME, unset DATABASE_URL")

import django  # noqa: E402

from meetpilot.embedded_db import ensure_started  # noqa: E402

ensure_started()
django.setup()

from django.conf import settings  # noqa: E402

# The benchmark loads chunks with COPY and rebuilds the vector index: both need the tables' owner (COPY FROM
# is refused under row-level security), so this script connects as the owner throughout (docs/operations.md).
settings.DATABASES["default"].update(settings.DATABASE_OWNER)

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.tenancy import tenant_scope  # noqa: E402

RNG = random.Random(20241122)

# --- a small language of company documents ------------------------------------------------------------

CODENAMES = ["Falcon", "Aurora", "Nimbus", "Granite", "Juniper", "Kestrel", "Lantern", "Meridian", "Nebula",
             "Obsidian", "Pelican", "Quartz", "Raven", "Saffron", "Tundra", "Umber", "Vortex", "Willow", "Yarrow",
             "Zephyr", "Anchor", "Beacon", "Cobalt", "Delta", "Ember", "Fjord", "Glacier", "Harbor", "Indigo",
             "Jasper", "Kite", "Lotus", "Mosaic", "Nomad", "Orchid", "Prism", "Quill", "Ridge", "Sierra", "Tango",
             "Ultra", "Vertex", "Walrus", "Xenon", "Yukon", "Zenith", "Atlas", "Bramble", "Cedar", "Dune"]
FIRST = ["Maria", "Tom", "Aisha", "Kenji", "Lucia", "Omar", "Priya", "Sven", "Chloe", "Diego", "Hana", "Ivan",
         "Nora", "Pavel", "Rosa", "Tariq", "Uma", "Viktor"]
LAST = ["Chen", "Novak", "Okafor", "Silva", "Tanaka", "Berg", "Moreau", "Haddad", "Kowalski", "Lindqvist", "Ortega",
        "Petrov", "Rossi", "Sato", "Weber"]
CITIES = ["Lisbon", "Berlin", "Austin", "Toronto", "Nairobi", "Osaka", "Warsaw", "Lyon", "Bogota", "Dublin", "Porto",
          "Oslo", "Seoul", "Denver"]
DEPTS = ["finance", "engineering", "sales", "marketing", "operations", "legal", "customer success"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
RISKS = ["a shortage of senior engineers", "the delayed vendor contract", "unclear data-protection rules",
         "rising cloud hosting costs", "a dependency on the legacy billing system", "low adoption by partners",
         "the migration of the customer database", "currency fluctuations in export markets"]
COMPONENTS = ["sync agent", "billing worker", "upload service", "report builder", "search indexer", "mobile app"]
SERVICES = ["license server", "payment gateway", "object store", "identity provider", "message queue"]
FILLER = [
    "The {x} team met on {day} to review the plan for the next quarter and agreed on the priorities.",
    "Customers asked for better reporting, and the {x} roadmap now includes a new dashboard.",
    "All project updates for {x} are shared in the weekly status meeting with the stakeholders.",
    "The process for change requests in {x} follows the standard company template.",
    "Quality assurance for {x} runs automated tests before every release to production.",
    "The team documented the architecture of {x} in the internal wiki for new colleagues.",
    "Several customers joined the early access programme and gave feedback on the first version.",
    "Training sessions for the support team are planned so that they can answer questions quickly.",
    "The steering committee reviews progress, costs and open issues once a month.",
    "Documentation, onboarding material and release notes are kept up to date by the product owner.",
    "Integration with existing tools was a frequent request from sales and customer success.",
    "The {x} project keeps a risk register that is reviewed in every planning session.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def person() -> str:
    return f"{RNG.choice(FIRST)} {RNG.choice(LAST)}"


def filler(x: str, n: int) -> list[str]:
    return [RNG.choice(FILLER).format(x=x, day=RNG.choice(DAYS)) for _ in range(n)]


def project_document(x: str, used_people: set[str], used_codes: set[str]) -> tuple[list[str], list[tuple]]:
    """Four pages about project ``x``; returns the pages and (question, fact sentence, kind) pairs."""
    lead = person()
    while lead in used_people:
        lead = person()
    used_people.add(lead)
    code = f"E-{RNG.randint(1000, 9999)}"
    while code in used_codes:
        code = f"E-{RNG.randint(1000, 9999)}"
    used_codes.add(code)
    year, month, city = RNG.choice([2025, 2026]), RNG.choice(MONTHS), RNG.choice(CITIES)
    amount = f"{RNG.randint(2, 95) / 10:.1f} million"
    risk, component, service, dept = RNG.choice(RISKS), RNG.choice(COMPONENTS), RNG.choice(SERVICES), RNG.choice(DEPTS)
    facts = {
        "lead": f"Project {x} is led by {lead}, who reports to the {dept} department.",
        "budget": f"The approved budget for {x} in {year} is {amount} euros.",
        "launch": f"{x} is scheduled to launch in {month} {year} after the security review.",
        "risk": f"The biggest risk for {x} is {risk}.",
        "code": f"Error code {code} in {x} means that the {component} could not reach the {service}.",
        "office": f"The {x} team works from the {city} office.",
    }
    questions = [
        (f"Who is in charge of {x}?", facts["lead"], "paraphrase"),
        (f"How much money was allocated to {x}?", facts["budget"], "paraphrase"),
        (f"When will {x} go live?", facts["launch"], "paraphrase"),
        (f"What could put {x} in danger?", facts["risk"], "paraphrase"),
        (f"What does error {code} mean?", facts["code"], "code"),
        (f"Which project does {lead} manage?", facts["lead"], "name"),
        (f"Where is the {x} team based?", facts["office"], "paraphrase"),
    ]
    order = list(facts.values())
    RNG.shuffle(order)
    pages = []
    for p in range(4):
        sentences = filler(x, 24)  # about 2,500 characters: a page of ordinary prose
        for fact in order[p * 2 : p * 2 + 2]:
            sentences.insert(RNG.randint(0, len(sentences)), fact)
        pages.append(" ".join(sentences))
    return pages, questions


# --- helpers ----------------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    print(f"\n{title}\n{line}")
    print("| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print(line)
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    print(line)


def company(name: str):
    from tests import factories

    return factories.company_make(name=name)


# --- 1. ingestion -------------------------------------------------------------------------------------------


def bench_ingestion(acme, docs: int, rounds: int) -> tuple[list[list], dict]:
    from knowledge import services
    from knowledge.embeddings import embed_texts
    from knowledge.models import Chunk, Document
    from knowledge.tasks import document_ingest_task
    from tests.knowledge.files import make_pdf

    services._enqueue_ingest = lambda document: None  # the benchmark runs the task itself, below
    used_people: set[str] = set()
    used_codes: set[str] = set()
    questions: list[tuple] = []
    ids = []
    with tenant_scope(acme):
        for x in CODENAMES[:docs]:
            pages, qs = project_document(x, used_people, used_codes)
            data = make_pdf(pages)
            result = services.document_upload(company=acme, uploaded_by=None, file=io.BytesIO(data),
                                              filename=f"project-{x.lower()}.pdf", size=len(data),
                                              title=f"Project {x} plan")
            ids.append(result.document.pk)
            questions.extend(qs)
    page_count = 4 * len(ids)

    # Ingestion and the raw embedder alternate document by document (the raw embedder gets the chunk
    # texts the ingestion just stored, title included, as they were embedded), so a burst of load from
    # elsewhere on the machine hits both sides alike. The first round ingests, later ones re-index.
    ingest_times, raw_times = [], []
    texts: list[str] = []
    for _ in range(rounds):
        ingest_total = raw_total = 0.0
        texts = []
        for doc_id in ids:
            started = time.perf_counter()
            document_ingest_task.apply(kwargs={"company_id": acme.pk, "document_id": doc_id}).get()
            ingest_total += time.perf_counter() - started
            with tenant_scope(acme):
                doc_texts = [f"{title}\n{text}" for title, text in
                             Chunk.objects.filter(document_id=doc_id).order_by("position").values_list("title", "text")]
            started = time.perf_counter()
            for start in range(0, len(doc_texts), services.EMBED_BATCH):
                embed_texts(doc_texts[start : start + services.EMBED_BATCH])
            raw_total += time.perf_counter() - started
            texts.extend(doc_texts)
        ingest_times.append(ingest_total)
        raw_times.append(raw_total)
    with tenant_scope(acme):
        assert all(d.status == "ready" for d in Document.objects.filter(pk__in=ids)), "ingestion failed"
    chunks = len(texts)
    ingest, raw = statistics.median(ingest_times), statistics.median(raw_times)
    ratio = statistics.median(r / i for r, i in zip(raw_times, ingest_times, strict=True))
    result = [
        ["documents / pages / chunks", f"{len(ids)} / {page_count} / {chunks}", ""],
        [f"ingestion (median of {rounds} runs)", f"{page_count / ingest:.1f} pages/s",
         f"{chunks / ingest:.1f} chunks/s"],
        ["raw local embedder, same chunks", "", f"{chunks / raw:.1f} chunks/s"],
        ["ingestion / raw embedder (median of per-run ratios)", "", f"{ratio:.0%}  (target >= 80%)"],
    ]
    return result, {"questions": questions, "ratio": ratio}


# --- 2. retrieval quality ---------------------------------------------------------------------------------------


def bench_quality(acme, questions: list[tuple]) -> tuple[list[list], dict]:
    from knowledge.models import Chunk
    from knowledge.retrieval import chunks_search

    with tenant_scope(acme):
        chunks = list(Chunk.objects.values_list("id", "text"))
    scores: dict[str, dict[str, list[float]]] = {}
    for mode in ("fulltext", "vector", "hybrid"):
        per_kind: dict[str, list[float]] = {"recall": [], "rr": []}
        for question, fact, kind in questions:
            relevant = {cid for cid, text in chunks if fact in " ".join(text.split())}
            assert relevant, fact
            hits = chunks_search(company=acme, query=question, k=5, mode=mode,
                                 access_levels={"public", "team", "confidential"})
            ranks = [i for i, h in enumerate(hits, start=1) if h.chunk_id in relevant]
            per_kind["recall"].append(1.0 if ranks else 0.0)
            per_kind["rr"].append(1.0 / ranks[0] if ranks else 0.0)
            per_kind.setdefault(f"recall:{kind}", []).append(1.0 if ranks else 0.0)
        scores[mode] = per_kind
    kinds = sorted({k for _, _, k in questions})
    rows = []
    for mode in ("fulltext", "vector", "hybrid"):
        s = scores[mode]
        rows.append([mode, f"{statistics.mean(s['recall']):.3f}", f"{statistics.mean(s['rr']):.3f}",
                     *[f"{statistics.mean(s[f'recall:{k}']):.2f}" for k in kinds]])
    header = ["method", "recall@5", "MRR", *[f"recall@5 {k} ({sum(1 for q in questions if q[2] == k)})"
                                            for k in kinds]]
    best_single = max(statistics.mean(scores[m]["recall"]) for m in ("fulltext", "vector"))
    return [header, *rows], {"hybrid": statistics.mean(scores["hybrid"]["recall"]), "best_single": best_single}


# --- 3. latency at scale ---------------------------------------------------------------------------------------

SYLLABLES = ["ka", "ro", "mi", "ne", "tu", "va", "lo", "ri", "sa", "de", "bo", "ne", "fa", "li", "mo", "ra", "zen",
             "tor", "vik", "lan", "dor", "mer", "sol", "quin", "bar", "tel", "cor", "vex", "nor", "gal", "pra",
             "sen", "tuk"]
FAMILIES = [  # (template family, templates): the passages of one document mostly share a family
    ("rollout", ["The {x} rollout for {c} starts in {m} with a pilot in the {city} office.",
                 "{p} asked the {dept} team to prepare the {x} rollout checklist before {m}.",
                 "Early adopters of {x} at {c} reported fewer support tickets after the pilot."]),
    ("finance", ["{p} presented the {x} budget review to the steering committee on {d}.",
                 "Hosting costs for {x} rose to {n} thousand euros per month in {m}.",
                 "The {x} invoice for {c} is overdue by {n} days and was escalated to {p}."]),
    ("support", ["Support tickets about the {x} {comp} dropped by {n} percent after the last release.",
                 "Error code E-{code} in {x} appears when the {comp} cannot reach the {s}.",
                 "{c} opened a priority ticket because the {x} {comp} timed out during the night."]),
    ("legal", ["The {x} contract with {c} renews in {m} and needs approval from {p}.",
               "Legal reviewed the data processing agreement for {x} with {c} on {d}.",
               "The {x} licence terms for {c} allow {n} named users per site."]),
    ("sales", ["Sales in {city} closed {n} new {x} deals this quarter, mostly in the {dept} segment.",
               "{p} expects {c} to sign the {x} expansion before the end of {m}.",
               "The {x} enterprise plan gives {c} a dedicated success manager and priority support."]),
    ("risk", ["The risk register for {x} lists {r} as the main open issue.",
              "{p} flagged {r} as a threat to the {x} launch in {m}.",
              "Mitigation for {r} in {x} is owned by the {dept} department."]),
]


def made_up_names(n: int, parts: int) -> list[str]:
    names: set[str] = set()
    while len(names) < n:
        names.add("".join(RNG.choice(SYLLABLES) for _ in range(parts)).capitalize())
    return sorted(names)


def sentence_bank(size: int) -> tuple[list[str], list[int], list[str], list[str]]:
    """Sentences with their family index, plus the project and customer names they use."""
    projects = made_up_names(3000, 3)
    customers = [f"{name} {RNG.choice(['Ltd', 'GmbH', 'Inc', 'SA', 'Group'])}" for name in made_up_names(2000, 3)]
    firsts, lasts = made_up_names(150, 2), made_up_names(250, 3)
    cities = made_up_names(120, 2)
    out: dict[str, int] = {}
    while len(out) < size:
        family = RNG.randrange(len(FAMILIES))
        out.setdefault(RNG.choice(FAMILIES[family][1]).format(
            x=RNG.choice(projects), c=RNG.choice(customers), m=RNG.choice(MONTHS), city=RNG.choice(cities),
            p=f"{RNG.choice(firsts)} {RNG.choice(lasts)}", d=RNG.choice(DAYS), comp=RNG.choice(COMPONENTS),
            n=RNG.randint(3, 90), s=RNG.choice(SERVICES), dept=RNG.choice(DEPTS), code=RNG.randint(1000, 9999),
            r=RNG.choice(RISKS)), family)
    bank = sorted(out)
    return bank, [out[b] for b in bank], projects, customers


class Synthesizer:
    """Chunks of 6-9 bank sentences (mostly of one family); embeddings composed from the sentences' real ones."""

    def __init__(self, bank: list[str], families: list[int], vectors: np.ndarray, seed: int) -> None:
        self.bank, self.vectors = bank, vectors
        self.rng = np.random.default_rng(seed)
        self.by_family: dict[int, list[int]] = {}
        for i, family in enumerate(families):
            self.by_family.setdefault(family, []).append(i)

    def chunk(self) -> tuple[str, np.ndarray]:
        pool = self.by_family[int(self.rng.integers(len(self.by_family)))]
        n = int(self.rng.integers(6, 10))
        picks = [pool[int(self.rng.integers(len(pool)))] if self.rng.random() < 0.7
                 else int(self.rng.integers(len(self.bank))) for _ in range(n)]
        vector = self.vectors[picks].mean(axis=0) + self.rng.normal(0, 0.01, size=self.vectors.shape[1])
        return " ".join(self.bank[i] for i in picks), (vector / np.linalg.norm(vector)).astype(np.float32)


def copy_chunks(target, synth: Synthesizer, n: int, source_offset: int) -> None:
    """Bulk-load ``n`` chunks for ``target`` with binary COPY (the generated tsvector is computed by Postgres)."""
    from django.utils import timezone
    from pgvector.psycopg import register_vector
    from psycopg.types.json import Jsonb

    from knowledge.embeddings import embedding_model_name

    model = embedding_model_name()  # the vectors are composed from the retrieval model's embeddings

    connection.ensure_connection()
    raw = connection.connection
    register_vector(raw)
    now = timezone.now()
    with raw.cursor() as cursor, cursor.copy(
        "COPY knowledge_chunk (company_id, source_type, source_id, position, title, text, page, start_char, "
        "end_char, metadata, access_level, embedding, embedding_model, created_at) FROM STDIN WITH (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["int8", "varchar", "int8", "int4", "varchar", "text", "int4", "int4", "int4", "jsonb",
                        "varchar", "vector", "varchar", "timestamptz"])
        for i in range(n):
            text, vector = synth.chunk()
            source = source_offset + i // 20
            level = "confidential" if i % 10 == 0 else "team"
            copy.write_row([target.pk, "summary", source, i % 20, f"Report {source}", text, None, 0, len(text),
                            Jsonb({}), level, vector, model, now])


def rebuild_index() -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("DROP INDEX IF EXISTS chunk_embedding_hnsw")
        cursor.execute("CREATE INDEX chunk_embedding_hnsw ON knowledge_chunk USING hnsw (embedding vector_cosine_ops) "
                       "WITH (m = 16, ef_construction = 64)")
        cursor.execute("VACUUM ANALYZE knowledge_chunk")
    return time.perf_counter() - started


def measure_latency(target, questions: list[str], vectors: np.ndarray, repeats: int) -> dict[str, list[float]]:
    from knowledge.retrieval import chunks_search, counts_forget

    counts_forget()
    levels = {"public", "team"}  # a member's view: confidential rows are filtered out
    out: dict[str, list[float]] = {"vector": [], "fulltext": [], "hybrid": []}
    for q, v in zip(questions[:10], vectors[:10], strict=True):  # warm-up
        for mode in out:
            chunks_search(company=target, query=q, k=5, mode=mode, access_levels=levels, query_embedding=v)
    for _ in range(repeats):
        for q, v in zip(questions, vectors, strict=True):
            for mode in out:
                started = time.perf_counter()
                hits = chunks_search(company=target, query=q, k=5, mode=mode, access_levels=levels,
                                     query_embedding=v)
                out[mode].append(time.perf_counter() - started)
                assert mode == "fulltext" or len(hits) == 5, (mode, len(hits))
    return out


def recall_vs_exact(target, vectors: np.ndarray, k: int = 10) -> tuple[float, float]:
    """Recall@k of chunks_search (vector) against exact search, and of a naive HNSW post-filter."""
    from django.db import transaction

    from knowledge import retrieval

    levels = {"public", "team"}
    ours, naive = [], []
    with connection.cursor() as cursor:
        where, params = retrieval._where(company_id=target.pk, access_levels=levels, source_types=None, filters=None)
        for v in vectors:
            literal = retrieval.vector_literal(v)
            exact = {r[0] for r in retrieval._vector_exact(cursor, where=where, params=params, qvec=literal, n=k)}
            got = retrieval.chunks_search(company=target, query="-", k=k, mode="vector", access_levels=levels,
                                          query_embedding=v)
            ours.append(len(exact & {h.chunk_id for h in got}) / k)
            with transaction.atomic():  # what a plain filtered HNSW query returns with default settings
                cursor.execute("SELECT set_config('hnsw.ef_search', '40', true)")
                rows = retrieval._vector_hnsw(cursor, where=where, params=params, qvec=literal, n=k, ef_search=40)
            naive.append(len(exact & {r[0] for r in rows}) / k)
    return statistics.mean(ours), statistics.mean(naive)


def bench_latency(big_target: int, small_size: int, queries: int, repeats: int) -> list[list]:
    from knowledge.embeddings import embed_query, embed_texts
    from knowledge.retrieval import vector_plan

    started = time.perf_counter()
    bank, families, projects, customers = sentence_bank(5000)
    bank_vectors = embed_texts(bank)
    print(f"  embedded a bank of {len(bank)} sentences in {time.perf_counter() - started:.1f} s", flush=True)
    used_projects = sorted({x for x in projects if any(x in b for b in bank[:400])})
    used_customers = sorted({c for c in customers if any(c in b for b in bank[:400])})
    questions = [RNG.choice([
        "What is the budget of {x}?", "Who presented the {x} budget review?", "When does the {x} rollout start?",
        "Why did {c} open a ticket about {x}?", "What does error E-{code} mean?", "How much does hosting {x} cost?",
        "Which risks does the {x} register list?", "When does the {x} contract with {c} renew?",
        "Is the {c} invoice overdue?", "How many users does the {x} licence allow?",
    ]).format(x=RNG.choice(used_projects), c=RNG.choice(used_customers), code=RNG.randint(1000, 9999))
        for _ in range(queries)]
    embed_times = []
    question_vectors = []
    for q in questions:
        t = time.perf_counter()
        question_vectors.append(embed_query(q + " "))  # a fresh text: not served by the query cache
        embed_times.append(time.perf_counter() - t)
    question_vectors = np.array(question_vectors)

    big, small = company("Bench Big"), company("Bench Small")
    synth = Synthesizer(bank, families, bank_vectors, seed=7)
    rows = []
    loaded = 0
    for size in sorted({min(10_000, big_target), big_target}):
        t = time.perf_counter()
        copy_chunks(big, synth, size - loaded, source_offset=loaded)
        if loaded == 0:
            copy_chunks(small, synth, small_size, source_offset=10_000_000)
        loaded = size
        build = rebuild_index()
        print(f"  loaded {size} chunks ({time.perf_counter() - t:.0f} s, HNSW build {build:.0f} s)", flush=True)
        lat = measure_latency(big, questions, question_vectors, repeats)
        small_lat = measure_latency(small, questions[:50], question_vectors[:50], repeats)
        with connection.cursor() as cursor:
            plan = vector_plan(cursor, company_id=big.pk, n=20)
        recall_big, naive_big = recall_vs_exact(big, question_vectors[:50])
        recall_small, naive_small = recall_vs_exact(small, question_vectors[:50])
        v95, h95 = pct(lat["vector"], 95), pct(lat["hybrid"], 95)
        rows.append([f"{size:,}", f"{plan[0]}" + (f" ef={plan[1]}" if plan[1] else ""),
                     f"{ms(pct(lat['vector'], 50))} / {ms(v95)}", f"{ms(pct(lat['fulltext'], 50))} / "
                     f"{ms(pct(lat['fulltext'], 95))}", f"{ms(pct(lat['hybrid'], 50))} / {ms(h95)}",
                     f"{h95 / v95:.2f}x", f"{recall_big:.3f} (naive {naive_big:.3f})",
                     f"{ms(pct(small_lat['hybrid'], 50))} / {ms(pct(small_lat['hybrid'], 95))}",
                     f"{recall_small:.3f} (naive {naive_small:.3f})"])
    header = ["chunks (big co.)", "vector plan", "vector p50/p95", "fulltext p50/p95", "hybrid p50/p95",
              "hybrid/vector p95", "big co. recall@10 vs exact", f"small co. ({small_size}) hybrid p50/p95",
              "small co. recall@10 vs exact"]
    embedding = [["question embedding (local, uncached)", f"{ms(pct(embed_times, 50))} / {ms(pct(embed_times, 95))}"]]
    return [header, *rows], embedding


# --- main ----------------------------------------------------------------------------------------------------------


def create_database() -> str:
    import psycopg
    from psycopg import sql

    db = settings.DATABASES["default"]
    name = db["NAME"]
    with psycopg.connect(host=db["HOST"], port=db["PORT"] or None, user=settings.DATABASE_OWNER["USER"],
                         dbname="postgres", autocommit=True) as conn:  # the owner creates and drops databases
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def drop_database(name: str) -> None:
    import psycopg
    from psycopg import sql

    connection.close()
    db = settings.DATABASES["default"]
    with psycopg.connect(host=db["HOST"], port=db["PORT"] or None, user=settings.DATABASE_OWNER["USER"],
                         dbname="postgres", autocommit=True) as conn:  # the owner creates and drops databases
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=24, help="generated PDF documents (4 pages each)")
    parser.add_argument("--rounds", type=int, default=3, help="ingestion runs (median reported)")
    parser.add_argument("--big", type=int, default=100_000, help="chunks of the big company at the last step")
    parser.add_argument("--small", type=int, default=1_000, help="chunks of the small company")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--skip-scale", action="store_true", help="only ingestion and retrieval quality")
    args = parser.parse_args()

    settings.MEDIA_ROOT = str(Path(settings.VAR_DIR) / "bench-knowledge-media")
    name = create_database()
    connection.close()
    print(f"database {name} on {settings.DATABASES['default']['HOST']}; 2-core figures are noisy, medians shown",
          flush=True)
    try:
        call_command("migrate", verbosity=0)
        acme = company("Bench Acme")
        print("1. ingestion ...", flush=True)
        ingestion_rows, info = bench_ingestion(acme, args.docs, args.rounds)
        table("Ingestion (real task: extract, chunk, embed in batches, store)", ["", "pages/s", "chunks/s"],
              ingestion_rows)
        print("2. retrieval quality ...", flush=True)
        quality, q = bench_quality(acme, info["questions"])
        table(f"Retrieval quality on the generated corpus ({len(info['questions'])} questions)", quality[0],
              quality[1:])
        print(f"hybrid recall@5 {q['hybrid']:.3f} vs best single method {q['best_single']:.3f} "
              f"({'above' if q['hybrid'] > q['best_single'] else 'NOT above'})")
        if args.skip_scale:
            return
        print("3. latency at scale ...", flush=True)
        latency, embedding = bench_latency(args.big, args.small, args.queries, args.repeats)
        table("Query latency, k=5, member's view, excluding the question embedding (p50 / p95)", latency[0],
              latency[1:])
        table("Question embedding, timed separately", ["", "p50 / p95"], embedding)
    finally:
        if not args.keep:
            drop_database(name)
            import shutil

            shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


if __name__ == "__main__":
    main()
