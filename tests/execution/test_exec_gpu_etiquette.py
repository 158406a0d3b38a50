"""GPU etiquette: before a run on a GPU machine the chat model is unloaded (keep_alive=0), else nothing is sent.

The Ollama server is pytest-httpserver speaking its REST API; the GPU list is the data the runner
reads from ``mlr.system.gpus()`` (this machine has none, so the GPU case is given as data).
"""

import json

from werkzeug.wrappers import Response

from mlr.execution.job import unload_llm_if_gpu

GPU = [{"index": 0, "name": "NVIDIA H100", "memory_used_mib": 9000, "memory_total_mib": 81559, "utilization_pct": 0}]


def _ollama(httpserver, seen):
    def generate(request):
        seen.append(json.loads(request.data))
        return Response(json.dumps({"model": seen[-1]["model"], "created_at": "2026-01-01T00:00:00Z", "response": "",
                                    "done": True, "done_reason": "unload"}), content_type="application/json")

    httpserver.expect_request("/api/generate", method="POST").respond_with_handler(generate)


def test_unloads_the_chat_model_before_a_gpu_run(httpserver, settings):
    seen = []
    _ollama(httpserver, seen)
    s = settings.model_copy(update={"ollama_host": httpserver.url_for("/").rstrip("/")})
    assert unload_llm_if_gpu(s, GPU) is True
    assert len(seen) == 1 and seen[0]["model"] == s.chat_model and seen[0]["keep_alive"] == 0


def test_nothing_is_sent_without_a_gpu_or_when_switched_off(httpserver, settings):
    seen = []
    _ollama(httpserver, seen)
    s = settings.model_copy(update={"ollama_host": httpserver.url_for("/").rstrip("/")})
    assert unload_llm_if_gpu(s, []) is False
    assert unload_llm_if_gpu(s.model_copy(update={"unload_llm_before_run": False}), GPU) is False
    assert seen == []


def test_an_unreachable_ollama_does_not_stop_the_run(settings):
    # conftest points Ollama at a closed port: the unload fails quietly and the run goes on.
    assert unload_llm_if_gpu(settings, GPU) is False


def test_parallel_runs_get_distinct_gpus():
    from mlr.execution.job import pick_gpu

    two = [GPU[0], {**GPU[0], "index": 1}]
    assert pick_gpu(two, []) == 0
    assert pick_gpu(two, [0, None]) == 1
    assert pick_gpu(two, [0, 1, 0]) == 1  # all held: the least-used one
    assert pick_gpu([], []) is None
