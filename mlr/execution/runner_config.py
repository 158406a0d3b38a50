"""What the notebook runner reads from the settings, and nothing more."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from mlr.config import Settings


class RunnerConfig(BaseModel):
    runs_dir: Path  # one folder per run: executed notebook, metrics, logs
    max_parallel_runs: int = 1  # runs at once, across every process sharing the record
    kernel_name: str = "python3"
    run_timeout_s: float = 3600.0  # whole run, unless the run sets its own
    cell_timeout_s: float = 900.0
    unload_llm_before_run: bool = True  # GPU etiquette: ask Ollama to free the chat model's memory first
    ollama_host: str = "http://127.0.0.1:11434"
    chat_model: str = ""
    ollama_probe_timeout_s: float = 2.0
    online_sources: bool = False  # off: with kernel_network "auto", runs start without network
    kernel_network: str = "auto"  # auto | off | on (mlr.execution.isolation)
    kernel_env_allow: str = ""  # more environment variable names a kernel may see

    @classmethod
    def from_settings(cls, settings: Settings) -> RunnerConfig:
        return cls(**{name: getattr(settings, name) for name in cls.model_fields})
