"""The app starts and renders every page with no Ollama, no GPU and an empty data directory."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mlr.config import REPO_ROOT

PAGES = ["pages/library.py", "pages/ideas.py", "pages/plan.py", "pages/experiment.py", "pages/tour.py"]


@pytest.fixture
def app(data_dir, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    at.run()
    return at


def test_app_starts_with_status_sidebar(app, data_dir):
    assert not app.exception
    sidebar = " ".join(m.value for m in app.sidebar.markdown)
    from mlr import system

    assert "embedded" in sidebar  # no Ollama here: the embedded model answers
    gpus = system.gpus()
    if gpus:  # the machine's GPUs by name, and no claim that there is none
        assert all(f"**GPU {g['index']}** · {g['name']}" in sidebar for g in gpus) and "no GPU" not in sidebar
    else:
        assert "**GPU** · no GPU (runs use the CPU)" in sidebar
    assert str(data_dir) in sidebar
    captions = " ".join(c.value for c in app.sidebar.caption)
    assert "ollama serve" in captions and "ollama pull" in captions


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(app, page):
    app.switch_page(page)
    app.run()
    assert not app.exception, app.exception
    assert app.title


SIDEBAR_ONLY = Path(__file__).with_name("sidebar_app.py")


def test_sidebar_offers_ollama_once_it_answers(data_dir, httpserver, monkeypatch):
    """Started while Ollama lacks the chat model, the app keeps the embedded model until the researcher switches."""
    from tests.support.ollama_server import FakeOllama

    fake = FakeOllama(httpserver, models=["nomic-embed-text:latest"])
    monkeypatch.setenv("MLR_OLLAMA_HOST", fake.host)
    # The server is up: a probe given the suite's 0.5 s could miss it on loaded cores (it did, twice, in full runs)
    # and the sidebar would rightly offer no switch.
    monkeypatch.setenv("MLR_OLLAMA_PROBE_TIMEOUT_S", "10")
    at = AppTest.from_file(str(SIDEBAR_ONLY), default_timeout=60)
    at.run()
    assert "embedded" in at.sidebar.markdown[0].value
    assert not at.sidebar.button

    fake.models.append("qwen2.5:7b-instruct")  # the researcher ran `ollama pull`
    from ui import resources

    resources.status_snapshot.clear()
    at.run()
    assert "embedded" in at.sidebar.markdown[0].value  # nothing changes behind the researcher's back
    at.sidebar.button(key="switch-llm").click().run()
    assert not at.exception
    assert "ollama" in at.sidebar.markdown[0].value and "qwen2.5:7b-instruct" in at.sidebar.markdown[0].value


def _sidebar_text(at) -> str:
    return " ".join([m.value for m in at.sidebar.markdown] + [c.value for c in at.sidebar.caption]
                    + [w.value for w in at.sidebar.warning])


def test_sidebar_says_where_prompts_go_when_ollama_is_on_another_host(data_dir, httpserver, monkeypatch):
    """A reachable Ollama on another machine gets every prompt and passage: the sidebar says so and no longer
    claims that nothing leaves this machine."""
    from mlr import status
    from tests.support.ollama_server import FakeOllama

    fake = FakeOllama(httpserver)
    monkeypatch.setenv("MLR_OLLAMA_HOST", fake.host)
    # The fake server listens on this machine; the sidebar is told its host is another one (the locality test
    # itself is test_host_locality below).
    monkeypatch.setattr(status, "host_is_local", lambda url: False)
    at = AppTest.from_file(str(SIDEBAR_ONLY), default_timeout=60)
    at.run()
    assert not at.exception
    text = _sidebar_text(at)
    assert "ollama" in at.sidebar.markdown[0].value
    assert f"go to Ollama at {fake.host}, another machine" in text and "they leave this machine" in text
    assert "nothing leaves this machine" not in text


def test_sidebar_with_a_local_ollama_keeps_everything_here(data_dir, httpserver, monkeypatch):
    from tests.support.ollama_server import FakeOllama

    fake = FakeOllama(httpserver)
    monkeypatch.setenv("MLR_OLLAMA_HOST", fake.host)
    at = AppTest.from_file(str(SIDEBAR_ONLY), default_timeout=60)
    at.run()
    text = _sidebar_text(at)
    assert "ollama" in at.sidebar.markdown[0].value and "nothing leaves this machine" in text
    assert not at.sidebar.warning


def test_host_locality():
    import psutil

    from mlr.status import host_is_local, prompt_route

    assert host_is_local("http://127.0.0.1:11434") and host_is_local("http://localhost:11434")
    assert host_is_local("http://[::1]:11434")
    own = [a.address for addrs in psutil.net_if_addrs().values() for a in addrs
           if a.family.name == "AF_INET" and not a.address.startswith("127.")]
    assert all(host_is_local(f"http://{ip}:11434") for ip in own)
    assert not host_is_local("http://192.0.2.10:11434") and not host_is_local("http://gpu-box.lab:11434")
    assert prompt_route("embedded", "http://192.0.2.10:11434")["local"]  # the embedded model sends nothing
    assert not prompt_route("ollama", "http://192.0.2.10:11434")["local"]


def test_sidebar_says_whether_notebook_runs_are_isolated(data_dir, monkeypatch):
    at = AppTest.from_file(str(SIDEBAR_ONLY), default_timeout=60)
    at.run()
    assert "**Notebook runs** · no network (isolated) · allow-listed environment" in _sidebar_text(at)
    monkeypatch.setenv("MLR_ONLINE_SOURCES", "true")
    import streamlit as st

    st.cache_resource.clear()  # a new workspace reads the new settings
    st.cache_data.clear()
    at = AppTest.from_file(str(SIDEBAR_ONLY), default_timeout=60)
    at.run()
    assert "**Notebook runs** · with network · allow-listed environment" in _sidebar_text(at)
