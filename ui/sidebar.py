"""The status panel shown on every page."""

from __future__ import annotations

import streamlit as st

from mlr.status import prompt_route
from ui import resources


def render() -> None:
    status = resources.status_snapshot()
    llm = status["llm"]
    with st.sidebar:
        st.subheader("Status")
        # The pages use the model chosen when the server started (cached); the probe above is fresh.
        active = resources.llm()
        st.markdown(f"**LLM** · {active.backend} · `{active.model}`")
        route = prompt_route(active.backend, resources.settings().ollama_host)
        if not route["local"]:
            st.warning(f"Prompts (passages of your papers, hypotheses, plans) go to {route['where']}: "
                       "they leave this machine.")
        if active.demo_grade:
            st.caption("Small embedded demo model: output shows the flow, it is not research-grade.")
        if llm["backend"] != active.backend:
            st.info(f"Now available: {llm['backend']} · `{llm['model']}`.")
            if st.button("Switch to it", key="switch-llm"):
                resources.reselect_llm()
                st.rerun()
        if llm["ollama_reachable"]:
            st.markdown(f"**Ollama** · reachable at `{llm['ollama_host']}`")
        else:
            st.markdown(f"**Ollama** · not reachable at `{llm['ollama_host']}`")
        if llm["backend"] != "ollama":
            model = resources.settings().chat_model
            hint = llm["reason"]
            if "ollama pull" not in hint:  # the reason may already name the fix
                hint += (" To use a real model: install Ollama, run `ollama serve`, then "
                         f"`ollama pull {model}`." if "ollama serve" not in hint else f" Then `ollama pull {model}`.")
            st.caption(hint)
        emb = status["embedding"]
        st.markdown(f"**Embeddings** · {emb['backend']} · `{emb['model']}`")
        if status["gpus"]:
            for gpu in status["gpus"]:
                st.markdown(f"**GPU {gpu['index']}** · {gpu['name']} · {gpu['memory_used_mib']}/"
                            f"{gpu['memory_total_mib']} MiB · {gpu['utilization_pct']} %")
        else:
            st.markdown("**GPU** · no GPU (runs use the CPU)")
        cpu = status["cpu"]
        st.markdown(f"**CPU** · {cpu['cores']} cores · {cpu['percent']:.0f} % · "
                    f"RAM {cpu['ram_used_gib']:.1f}/{cpu['ram_total_gib']:.1f} GiB")
        st.markdown(f"**Data** · `{status['data_dir']}`")
        net = status["notebook_network"]
        st.markdown("**Notebook runs** · " + ("no network (isolated)" if net["isolated"] else "with network")
                    + " · allow-listed environment", help=net["reason"])
        ex = status.get("executor") or {"kind": "local"}
        if ex["kind"] == "ray":
            if ex.get("problem"):
                st.error(f"**Ray cluster** · {ex['problem']}")
            else:
                slots = f" · {ex['slots']} run slots" if ex.get("slots") is not None else ""
                st.markdown(f"**Ray cluster** · `{ex['address']}` · {ex['nodes']} node(s) · "
                            f"{ex['gpus_free']:g} GPU(s) free{slots}", help=ex.get("note"))
        local = route["local"] and emb["local"]  # embeddings through Ollama send passages to its host
        st.caption("Online sources: " + ("on" if status["online_sources"] else "off (nothing leaves this machine)"
                                         if local else f"off, but passages and prompts go to Ollama at "
                                         f"{resources.settings().ollama_host}, another machine"))
