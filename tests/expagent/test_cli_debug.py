"""``python -m mlr debug`` end to end in a child process (real engine, real kernels, no model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.expagent.conftest import BROKEN

ROOT = BROKEN.parent.parent.parent


def mlr(*args, data_dir):
    env = {**os.environ, "MLR_DATA_DIR": str(data_dir), "MLR_LLM_BACKEND": "embedded"}
    return subprocess.run([sys.executable, "-m", "mlr", "debug", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, stdin=subprocess.DEVNULL, timeout=600, check=False)


def test_autopilot_fixes_a_copy_and_prints_the_promised_json(data_dir):
    before = (BROKEN / "syntax_colon.ipynb").read_bytes()
    done = mlr(str(BROKEN / "syntax_colon.ipynb"), "--autopilot", "--rules-only", "--json", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert {"fixed", "attempts", "final_status", "final_notebook", "metrics", "reason"} <= set(out)
    assert out["fixed"] and out["final_status"] == "succeeded" and out["metrics"] == {"accuracy": 1.0}
    assert out["reason"].startswith("fixed by rule:syntax")
    assert [a["source"] for a in out["attempts"]] == ["initial", "rule:syntax"]
    assert out["final_notebook"].startswith(str(data_dir)) and (BROKEN / "syntax_colon.ipynb").read_bytes() == before


def test_missing_package_reason_carries_the_pip_command_and_no_tty_needs_approval(data_dir):
    done = mlr(str(BROKEN / "missing_package.ipynb"), "--json", "--rules-only", data_dir=data_dir)
    out = json.loads(done.stdout)
    assert done.returncode == 1 and not out["fixed"] and "pip install opencv-python" in out["reason"]
    done = mlr(str(BROKEN / "name_typo.ipynb"), "--json", "--rules-only", data_dir=data_dir)
    out = json.loads(done.stdout)
    assert done.returncode == 1 and out["reason"].startswith("approval needed")


def test_bad_input_is_a_clear_message(data_dir):
    done = mlr("does/not/exist.ipynb", data_dir=data_dir)
    assert done.returncode == 2 and "notebook not found" in done.stderr and "Traceback" not in done.stderr
    not_a_notebook = data_dir / "notes.ipynb"
    not_a_notebook.write_text("this is not JSON")
    done = mlr(str(not_a_notebook), "--autopilot", data_dir=data_dir)
    assert done.returncode == 2 and "cannot read notebook" in done.stderr and "Traceback" not in done.stderr
    done = mlr(str(BROKEN / "name_typo.ipynb"), "--attempts", "-1", data_dir=data_dir)
    assert done.returncode == 2 and "--attempts" in done.stderr
