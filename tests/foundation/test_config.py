from pathlib import Path

import pytest

from mlr.config import REPO_ROOT, Settings


def test_defaults_put_everything_under_the_checkout():
    s = Settings.from_env({})
    assert s.data_dir == REPO_ROOT
    assert s.indexes_dir == REPO_ROOT / "indexes"
    assert s.workspace_dir == REPO_ROOT / "workspace"
    assert s.db_path.parent == REPO_ROOT / "workspace"
    assert s.online_sources is False
    assert s.llm_backend == "auto"


def test_data_dir_moves_indexes_and_workspace(tmp_path):
    s = Settings.from_env({"MLR_DATA_DIR": str(tmp_path)})
    s.ensure_dirs()
    assert s.indexes_dir == tmp_path / "indexes" and s.indexes_dir.is_dir()
    for p in (s.db_path, s.uploads_dir, s.runs_dir, s.prototypes_dir):
        assert tmp_path / "workspace" in p.parents or p == tmp_path / "workspace"


def test_environment_values_are_typed():
    s = Settings.from_env({"MLR_OLLAMA_HOST": "http://gpu-box:11434", "MLR_CHAT_MODEL": "llama3.1:8b",
                           "MLR_ONLINE_SOURCES": "yes", "MLR_OLLAMA_TIMEOUT_S": "12.5", "MLR_LLM_RETRIES": "4"})
    assert s.ollama_host == "http://gpu-box:11434"
    assert s.chat_model == "llama3.1:8b"
    assert s.online_sources is True
    assert s.ollama_timeout_s == 12.5
    assert s.llm_retries == 4


@pytest.mark.parametrize("env", [{"MLR_ONLINE_SOURCES": "maybe"}, {"MLR_LLM_BACKEND": "gpt"},
                                 {"MLR_LLM_RETRIES": "many"}])
def test_bad_values_are_refused_with_the_variable_named(env):
    with pytest.raises(ValueError):
        Settings.from_env(env)


def test_overrides_win(tmp_path):
    s = Settings.from_env({"MLR_DATA_DIR": "/nonexistent"}, data_dir=Path(tmp_path))
    assert s.data_dir == tmp_path
