"""``python -m mlr status [--check] [--json]``: backends, GPUs, CPU and data directory."""

from __future__ import annotations

import sys

from mlr.cli.output import emit_json


def register(sub) -> None:
    p = sub.add_parser("status", help="show the active model backend, GPUs, CPU and data directory")
    p.add_argument("--check", action="store_true", help="make one short real generation with the active backend")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args, ws) -> int:
    from mlr.status import collect_status  # Ollama's client and NVML: imported by this command only

    status = collect_status(ws.settings, check=args.check)
    if args.json:
        emit_json(status)
    else:
        llm = status["llm"]
        lines = [
            f"LLM        {llm['backend']}: {llm['model']}" + ("  [demo-grade]" if llm.get("demo_grade") else ""),
            f"Ollama     {llm['ollama_host']} " + ("reachable" if llm["ollama_reachable"] else "NOT reachable"),
            f"           {llm['reason']}",
            f"Embedding  {status['embedding']['backend']}: {status['embedding']['model']}",
            "GPUs       " + (", ".join(f"{g['name']} {g['memory_used_mib']}/{g['memory_total_mib']} MiB "
                                       f"{g['utilization_pct']}%" for g in status["gpus"]) or "no GPU"),
            (f"CPU/RAM    {status['cpu']['cores']} cores, {status['cpu']['ram_used_gib']}/"
             f"{status['cpu']['ram_total_gib']} GiB"),
            f"Data dir   {status['data_dir']}",
            "Kernels    " + (", ".join(f"{k['name']} ({k['display_name']})" + (" [default]" if k["name"] ==
                                       status["default_kernel"] else "") for k in status["kernels"]) or "none"),
            _executor_line(status["executor"]),
        ]
        if "check" in llm:
            c = llm["check"]
            lines.append("Check      " + (f"ok, {c['tokens_per_s']} tokens/s" if c["ok"] else f"FAILED: {c['error']}"))
        sys.stdout.write("\n".join(lines) + "\n")
    if args.check and not status["llm"]["check"]["ok"]:
        return 1
    return 0


def _executor_line(ex: dict) -> str:
    if ex["kind"] == "local":
        return "Runs       local child processes"
    if ex.get("problem"):
        return f"Runs       Ray at {ex['address']}: {ex['problem']}"
    return (f"Runs       Ray at {ex['address']}: {ex['nodes']} node(s), {ex['gpus_free']:g} GPU(s) free"
            + (f", {ex['slots']} run slots" if ex.get("slots") is not None else f" ({ex.get('note', '')})"))
