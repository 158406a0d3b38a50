"""What the notebook runner reads from the settings, and nothing more."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from mlr.config import Settings


class RunnerConfig(BaseModel):
    runs_dir: Path  # one folder per run: executed notebook, metrics, logs
    max_parallel_runs: int = 1  # runs at once, across every process sharing the record
    max_parallel_set: bool = True  # False: MLR_MAX_PARALLEL_RUNS was not given (Ray then uses the cluster's slots)
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
    # The executor (mlr.execution.executors): where a run's child process starts.
    executor: str = "local"  # local | ray
    ray_address: str = ""  # empty: a local Ray instance; auto or ray://host:10001: a cluster
    ray_gpus_per_run: float | None = None  # None: 1 when the cluster has GPUs, else 0
    ray_cpus_per_run: float = 1.0
    ray_resources: str = ""  # JSON of custom resources per run
    ray_shared_dir: str = ""  # mounted at the same path on every node
    ray_max_ship_mb: float = 64.0
    ray_num_cpus: int = 0
    ray_object_store_mb: int = 200

    @classmethod
    def from_settings(cls, settings: Settings) -> RunnerConfig:
        values = {name: getattr(settings, name) for name in cls.model_fields if name != "max_parallel_set"}
        return cls(**values, max_parallel_set="max_parallel_runs" in settings.model_fields_set)
