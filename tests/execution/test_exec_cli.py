"""``python -m mlr run``: the JSON the issue specifies, typed -p values, clear errors for bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlr.config import REPO_ROOT

pytestmark = pytest.mark.timeout(180)


def mlr(*args):
    # data_dir (conftest) has exported MLR_DATA_DIR, so the command writes only there.
    return subprocess.run([sys.executable, "-m", "mlr", "run", *args], cwd=REPO_ROOT, capture_output=True, check=False,
                          text=True, timeout=170)


def test_json_of_a_successful_run_with_typed_parameters(data_dir, probe):
    proc = mlr(str(probe), "-p", "lr", "0.2", "-p", "use_bias", "false", "-p", "layers", "[3]", "-p", "epochs", "1",
               "-p", "name", "42", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == {"run_id", "status", "metrics", "metrics_found", "kernel", "notebook", "error",
                        "output_notebook", "seconds"}
    assert out["metrics_found"]["source"] == "metrics.json" and out["kernel"] is None
    assert out["status"] == "succeeded" and out["error"] is None and out["seconds"] > 0
    m = out["metrics"]
    assert m["accuracy"] == 0.7 and m["use_bias"] is False and m["layers"] == [3] and m["name"] == "42"
    assert m["types"]["name"] == "str"  # a str parameter stays a string even when it looks like a number
    assert Path(out["output_notebook"]).is_file() and str(data_dir) in out["output_notebook"]


def test_json_of_a_failing_run_and_text_output(data_dir, probe):
    proc = mlr(str(probe), "-p", "mode", "raise", "--json")
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert out["status"] == "failed"
    assert out["error"]["cell_index"] == 4 and out["error"]["ename"] == "ValueError"
    assert out["error"]["evalue"] == "boom at lr=0.1" and "Traceback" in out["error"]["traceback"]


def test_timeout_option(data_dir, probe):
    proc = mlr(str(probe), "-p", "mode", "loop", "--timeout", "5")
    assert proc.returncode == 1
    # Which cell was running depends on how fast the kernel started; the runner tests pin the index.
    assert "timed_out" in proc.stdout and "RunTimeout" in proc.stdout and "time limit of 5 s" in proc.stdout


@pytest.mark.parametrize("args,message", [
    (["-p", "momentum", "0.9"], "unknown parameter 'momentum'; the notebook's parameters are: mode, lr"),
    (["-p", "epochs", "1.5"], "parameter 'epochs' is an int; cannot use '1.5'"),
    (["-p", "use_bias", "maybe"], "parameter 'use_bias' is a bool"),
    (["--timeout", "0"], "--timeout must be a positive number")])
def test_bad_input_is_refused_clearly(data_dir, probe, args, message):
    proc = mlr(str(probe), *args)
    assert proc.returncode == 2 and message in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_missing_notebook_and_notebook_without_parameters_cell(data_dir, no_parameters, tmp_path):
    proc = mlr(str(tmp_path / "nope.ipynb"))
    assert proc.returncode == 2 and "notebook not found" in proc.stderr
    proc = mlr(str(no_parameters), "-p", "x", "2")
    assert proc.returncode == 2 and "no cell tagged `parameters`" in proc.stderr
