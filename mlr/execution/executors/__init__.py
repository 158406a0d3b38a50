"""Where a run's child process executes: ``local`` (this machine, the default) or ``ray`` (a Ray cluster).

``build_executor(config)`` is the one place that chooses, from ``RunnerConfig.executor`` (``MLR_EXECUTOR``);
``executor_status(settings)`` is what the sidebar and ``python -m mlr status --json`` show about it.
"""

from __future__ import annotations

from mlr.execution.executors.base import Executor, Launch, RunContext, Watched


def build_executor(config) -> Executor:
    if config.executor == "ray":
        from mlr.execution.executors.ray_executor import RayExecutor

        return RayExecutor(config)
    from mlr.execution.executors.local import LocalExecutor

    return LocalExecutor(config)


def executor_status(settings, executor: Executor | None = None) -> dict:
    """``{"kind", "address", "nodes", "gpus_free", "slots", "problem"}``; a Ray cluster is asked only when this
    process is connected or an address is configured (a local Ray instance is not started just to answer)."""
    if executor is None:
        from mlr.execution.runner_config import RunnerConfig

        executor = build_executor(RunnerConfig.from_settings(settings))
    return executor.describe()


__all__ = ["Executor", "Launch", "RunContext", "Watched", "build_executor", "executor_status"]
