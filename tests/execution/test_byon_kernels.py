"""Kernels (issue 17): a kernel registered from a separate venv runs the notebook (the app's interpreter is not
used), a missing kernel or one that cannot start is refused naming the installed kernels, cancel works in it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from mlr.config import REPO_ROOT
from mlr.execution import kernels

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def venv_kernel(tmp_path, monkeypatch):
    """A venv of its own (system site-packages for ipykernel) registered as kernel "byon-venv" in a temporary
    JUPYTER_PATH; returns the venv's python."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    specs = tmp_path / "jupyter"
    for name, argv0 in (("byon-venv", str(python)), ("broken", str(tmp_path / "no-such-python"))):
        folder = specs / "kernels" / name
        folder.mkdir(parents=True)
        (folder / "kernel.json").write_text(json.dumps({
            "argv": [argv0, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": f"Python ({name})", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(specs))
    return python


def _notebook(path: Path, *sources: str, kernel: str | None = None) -> Path:
    nb = v4.new_notebook()
    if kernel:
        nb.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    nb.cells = [v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, str(path))
    return path


WHERE = ("import json, sys\nprint(json.dumps({'executable': sys.executable, 'prefix': sys.prefix}))")


def test_a_kernel_from_another_venv_runs_the_notebook_and_the_apps_interpreter_is_not_used(venv_kernel, runner,
                                                                                           tmp_path, store):
    assert {"byon-venv", "python3"} <= {k.name for k in kernels.installed()}
    nb = _notebook(tmp_path / "where.ipynb", WHERE)
    out = runner.wait(runner.submit(nb, {}, data={"kernel": "byon-venv"}))
    assert out.status == "succeeded", out.error
    seen = json.loads(Path(out.output_notebook).read_text())["cells"][0]["outputs"][0]["text"]
    where = json.loads("".join(seen))
    assert where["executable"] == str(venv_kernel) and where["prefix"] == str(venv_kernel.parent.parent)
    assert where["executable"] != sys.executable


def test_the_notebooks_own_kernel_is_the_default_when_installed(venv_kernel, runner, tmp_path):
    own = _notebook(tmp_path / "own.ipynb", WHERE, kernel="byon-venv")
    gone = _notebook(tmp_path / "gone.ipynb", WHERE, kernel="conda-env-that-is-not-here")
    assert kernels.default_for(own, "python3") == "byon-venv"
    assert kernels.default_for(gone, "python3") == "python3"
    out = runner.run(str(own), {})
    where = json.loads("".join(json.loads(Path(out.output_notebook).read_text())["cells"][0]["outputs"][0]["text"]))
    assert where["executable"] == str(venv_kernel)


def test_a_missing_kernel_and_one_that_cannot_start_name_the_installed_kernels(venv_kernel, runner, tmp_path):
    with pytest.raises(kernels.KernelNotFoundError, match=r"'nope' is not installed.*byon-venv.*python3"):
        kernels.check("nope")
    nb = _notebook(tmp_path / "plain.ipynb", "x = 1")
    out = runner.wait(runner.submit(nb, {}, data={"kernel": "broken"}))
    assert out.status == "failed"
    assert out.error.ename == "KernelStartError"
    assert "the kernel 'broken' could not start" in out.error.evalue and "byon-venv" in out.error.evalue
    out = runner.wait(runner.submit(nb, {}, data={"kernel": "vanished"}))  # uninstalled between queue and run
    assert out.status == "failed" and out.error.ename == "KernelNotFound"
    assert "'vanished' is not installed" in out.error.evalue and "python3" in out.error.evalue


def test_cancel_and_timeout_work_in_the_venv_kernel(venv_kernel, runner, tmp_path, store, wait_for):
    nb = _notebook(tmp_path / "slow.ipynb", "import time\nprint('started', flush=True)\nwhile True:\n    time.sleep(0.1)")
    run_id = runner.submit(nb, {}, data={"kernel": "byon-venv"})
    wait_for(lambda: "started" in store.get_run(run_id).progress.output_tail, 60)
    runner.cancel(run_id)
    assert runner.wait(run_id, timeout=30).status == "cancelled"
    out = runner.wait(runner.submit(nb, {}, data={"kernel": "byon-venv"}, timeout_s=8))
    assert out.status == "timed_out" and out.error.ename == "RunTimeout"


def test_cli_kernel_option_and_status_list_the_kernels(venv_kernel, data_dir, tmp_path):
    nb = _notebook(tmp_path / "where.ipynb", WHERE)
    run = lambda *a: subprocess.run([sys.executable, "-m", "mlr", *a], cwd=REPO_ROOT, capture_output=True,
                                    text=True, timeout=200, check=False)
    proc = run("run", str(nb), "--kernel", "byon-venv", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["kernel"] == "byon-venv"
    where = json.loads("".join(json.loads(Path(out["output_notebook"]).read_text())["cells"][0]["outputs"][0]["text"]))
    assert where["executable"] == str(venv_kernel)
    proc = run("run", str(nb), "--kernel", "nope")
    assert proc.returncode == 2 and "the kernel 'nope' is not installed" in proc.stderr and "byon-venv" in proc.stderr
    status = json.loads(run("status", "--json").stdout)
    assert {"byon-venv", "python3"} <= {k["name"] for k in status["kernels"]}


def test_the_kernel_picked_on_the_page_is_kept_with_an_added_notebook_and_runs_it(venv_kernel, data_dir, settings,
                                                                                  monkeypatch, tmp_path, store):
    from mlr.execution.prototypes import add_prototype
    from tests.support.apptest import open_page, poll

    source = _notebook(tmp_path / "where.ipynb", WHERE, kernel="conda-env-gone")
    before = source.read_bytes()
    proto = add_prototype(settings, "where.ipynb", before)
    pages = open_page(monkeypatch, "pages/experiment.py")
    at = next(pages)
    try:
        at.run()
        box = at.selectbox(key="exp-proto")
        box.select_index(next(i for i, o in enumerate(box.options) if "where" in o.lower())).run()
        kernel = at.selectbox(key="exp-kernel-where")
        assert kernel.value == "python3"
        assert {"byon-venv · Python (byon-venv)", "python3 · Python 3 (ipykernel)"} <= set(kernel.options)
        assert any("names the kernel 'conda-env-gone', which is not installed here" in c.value for c in at.caption)
        kernel.set_value("byon-venv").run()
        assert not at.exception, at.exception
        assert kernels.default_for(proto.path, "python3") == "byon-venv"  # kept with the app's copy
        assert source.read_bytes() == before  # the researcher's file is not touched
        at.button(key="exp-baseline").click().run()
        poll(at, lambda at: any(r.status == "succeeded" for r in store.list_runs()), timeout=120)
        run = store.list_runs()[0]
        assert run.kernel == "byon-venv"
        where = json.loads("".join(json.loads(Path(run.output_notebook).read_text())["cells"][0]["outputs"][0]["text"]))
        assert where["executable"] == str(venv_kernel)
    finally:
        next(pages, None)
