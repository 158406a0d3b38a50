"""The app starts and renders every page with no Ollama, no GPU and an empty data directory."""

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
    assert "embedded" in sidebar and "no GPU" in sidebar or "GPU" in sidebar
    assert str(data_dir) in sidebar
    captions = " ".join(c.value for c in app.sidebar.caption)
    assert "ollama serve" in captions and "ollama pull" in captions


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(app, page):
    app.switch_page(page)
    app.run()
    assert not app.exception, app.exception
    assert app.title
