"""The app starts and renders every page with no Ollama, no GPU and an empty data directory."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mlr.config import REPO_ROOT

PAGES = ["pages/library.py", "pages/ideas.py", "pages/plan.py", "pages/experiment.py"]


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
