import json
import os
import subprocess
import sys

import pytest

from mlr.config import REPO_ROOT


def _status(data_dir, *args, timeout=300):
    env = {**os.environ, "MLR_DATA_DIR": str(data_dir), "MLR_OLLAMA_HOST": "http://127.0.0.1:9",
           "MLR_OLLAMA_PROBE_TIMEOUT_S": "0.5"}
    return subprocess.run([sys.executable, "-m", "mlr", "status", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_status_json_without_ollama_reports_embedded(data_dir):
    from mlr.config import REPO_ROOT

    checkout_record = REPO_ROOT / "workspace" / "mlr.sqlite3"
    existed = checkout_record.exists()
    proc = _status(data_dir, "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["llm"]["backend"] == "embedded" and out["llm"]["ollama_reachable"] is False
    assert "check" not in out["llm"]
    assert out["data_dir"] == str(data_dir)
    assert isinstance(out["gpus"], list) and out["cpu"]["cores"] >= 1
    assert out["embedding"]["model"]
    # Nothing is written in the checkout when the data dir is elsewhere (status reads no record at all).
    assert checkout_record.exists() == existed
    assert not list(data_dir.glob("**/*.sqlite3*"))


def test_status_text_names_the_fix(data_dir):
    proc = _status(data_dir)
    assert proc.returncode == 0
    assert "ollama serve" in proc.stdout and "NOT reachable" in proc.stdout


@pytest.mark.slow
def test_status_check_makes_a_real_generation(data_dir):
    proc = _status(data_dir, "--check", "--json")
    assert proc.returncode == 0, proc.stderr
    check = json.loads(proc.stdout)["llm"]["check"]
    assert check["ok"] and check["tokens_per_s"] > 0 and check["error"] is None
