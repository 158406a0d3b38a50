"""The runner with real papermill runs: outcomes, errors, timeouts, cancel, dead kernels, the queue."""

import json
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from mlr.execution import procs
from mlr.execution.notebook_view import notebook_cells
from mlr.execution.runner import NotebookRunner
from mlr.protocols import Runner

pytestmark = pytest.mark.timeout(180)


def _descendants() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def test_success_with_metrics_parameters_of_each_type_and_progress(runner, probe, store):
    assert isinstance(runner, Runner)
    params = {"lr": 0.25, "epochs": 3, "name": "variant", "use_bias": False, "layers": [1, 2, 3],
              "extra": {"seed": 7, "tag": "x"}}
    out = runner.run(str(probe), params, kind="variant", timeout_s=90)
    assert out.status == "succeeded", out.error
    assert out.error is None and out.seconds > 0
    m = out.metrics
    assert m["accuracy"] == 0.75 and m["loss"] == 0.75
    assert m["types"] == {"mode": "str", "lr": "float", "epochs": "int", "name": "str", "use_bias": "bool",
                          "layers": "list", "extra": "dict"}
    assert (m["name"], m["use_bias"], m["layers"], m["extra"]) == ("variant", False, [1, 2, 3], {"seed": 7, "tag": "x"})
    assert Path(out.output_notebook).is_file()
    record = store.get_run(out.run_id)
    assert record.kind == "variant" and record.parameters == params and record.timeout_s == 90
    prog = record.progress
    assert prog.phase == "finished" and prog.cells_total == 4 and prog.cells_done == 4
    assert "epoch 2 lr=0.25" in Path(record.run_dir, "output.log").read_text()
    injected = [c for c in notebook_cells(out.output_notebook) if c.injected]
    assert len(injected) == 1 and "lr = 0.25" in injected[0].source


def test_exception_in_a_cell_records_fields_and_user_cell_index(runner, probe):
    out = runner.run(str(probe), {"mode": "raise", "lr": 0.5})
    assert out.status == "failed"
    err = out.error
    assert err.cell_index == 4  # 0-based in the user's notebook; papermill's injected cell not counted
    assert err.ename == "ValueError" and err.evalue == "boom at lr=0.5"
    assert "raise ValueError" in err.traceback and "\x1b[" not in err.traceback
    cells = notebook_cells(out.output_notebook, err.cell_index)
    failed = [c for c in cells if c.failed]
    assert [c.index for c in failed] == [4] and "raise ValueError" in failed[0].source
    assert not out.metrics


def test_infinite_loop_is_stopped_by_the_whole_run_timeout(runner, probe, store):
    before = _descendants()
    start = time.monotonic()
    # 12 s: long enough for a kernel to start on a loaded 2-core machine, so the loop cell is reached.
    out = runner.run(str(probe), {"mode": "loop"}, timeout_s=12)
    assert out.status == "timed_out"
    assert time.monotonic() - start < 40
    assert out.error.ename == "RunTimeout" and "12 s" in out.error.evalue and out.error.cell_index == 4
    assert Path(out.output_notebook).is_file()  # kept, with what ran before the stop
    assert _descendants() <= before
    prog = store.get_run(out.run_id).progress
    assert prog.cpu_percent > 0 and prog.rss_mib > 0 and prog.gpus == []  # the busy kernel was seen
    assert "looping" in prog.output_tail


def test_per_cell_timeout(fast_settings, store, probe):
    runner = NotebookRunner(fast_settings.model_copy(update={"cell_timeout_s": 3.0}), store)
    try:
        out = runner.run(str(probe), {"mode": "loop"})
    finally:
        runner.stop()
    assert out.status == "timed_out"
    assert out.error.ename == "CellTimeoutError" and out.error.cell_index == 4


def test_cancel_mid_run_leaves_no_process_behind(runner, probe, store, wait_for):
    before = _descendants()
    run_id = runner.submit(str(probe), {"mode": "spawn"})
    run_dir = Path(wait_for(lambda: getattr(store.get_run(run_id), "run_dir", None), 30))
    pids = [int(p) for p in wait_for(lambda: (run_dir / "pids.txt").is_file()
                                     and (run_dir / "pids.txt").read_text().split(), 60)]
    assert all(psutil.pid_exists(p) for p in pids)  # kernel, a child, a child in its own session
    live = wait_for(lambda: store.get_run(run_id).progress.processes >= 4, 10)
    assert live
    assert runner.cancel(run_id) == "running"
    out = runner.wait(run_id, timeout=30)
    assert out.status == "cancelled" and out.error is None
    assert Path(out.output_notebook).is_file()
    gone = lambda pid: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert wait_for(lambda: all(gone(p) for p in pids), 10)
    assert _descendants() <= before
    assert runner.cancel(run_id) == "cancelled"  # cancelling an ended run changes nothing


def test_cancel_requested_from_another_process_is_honoured(runner, probe, store, settings, wait_for):
    from mlr.store import Store

    run_id = runner.submit(str(probe), {"mode": "loop"})
    wait_for(lambda: store.get_run(run_id).progress.cell_index == 4, 60)
    assert Store(settings.db_path).request_cancel(run_id) == "running"  # e.g. a second tab's process
    assert runner.wait(run_id, timeout=30).status == "cancelled"


def test_kernel_that_dies(runner, probe):
    out = runner.run(str(probe), {"mode": "exit"})
    assert out.status == "failed"
    assert out.error.ename == "DeadKernelError" and out.error.cell_index == 4


def test_no_metrics_file_is_a_success_with_no_metric_found(runner, probe, store):
    # Papermill's verdict stands (issue 17): the run succeeded; "no metric found" is said beside it.
    out = runner.run(str(probe), {"mode": "nometrics"})
    assert out.status == "succeeded" and out.error is None and out.metrics == {}
    found = store.get_run(out.run_id).metrics_found
    assert found.source is None and "no metric found" in found.note


def test_queue_runs_one_at_a_time_and_cancels_queued_runs(runner, probe, store):
    first = runner.submit(str(probe), {"epochs": 1})
    second = runner.submit(str(probe), {"epochs": 1})
    third = runner.submit(str(probe), {"epochs": 1})
    assert runner.cancel(third) == "cancelled"
    assert runner.wait(first).status == "succeeded" and runner.wait(second).status == "succeeded"
    a, b = store.get_run(first), store.get_run(second)
    assert a.finished_at <= b.started_at
    assert store.get_run(third).status == "cancelled" and store.get_run(third).started_at is None


def _dead_identity() -> str:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    identity = procs.process_identity(proc.pid)
    proc.wait()
    return identity


def test_restart_marks_dead_runs_interrupted_and_resumes_the_queue(fast_settings, store, probe):
    # State left by an app process that died: one run 'running' (its notebook orphaned and still
    # alive), one queued. And one run of a live other process, which must not be touched.
    orphan = subprocess.Popen(["sleep", "60"], start_new_session=True)
    other_owner = subprocess.Popen(["sleep", "60"])
    try:
        dead = store.add_run(str(probe), {})
        store.claim_next_run(5, owner=_dead_identity())
        store.update_run(dead, pid=orphan.pid, pid_identity=procs.process_identity(orphan.pid),
                         progress={"cell_index": 2})
        alive = store.add_run(str(probe), {})
        store.claim_next_run(5, owner=procs.process_identity(other_owner.pid))
        queued = store.add_run(str(probe), {"lr": 0.4})
        runner = NotebookRunner(fast_settings.model_copy(update={"max_parallel_runs": 2}), store).start()
        try:
            out = runner.wait(queued, timeout=90)
        finally:
            runner.stop()
        assert out.status == "succeeded" and out.metrics["accuracy"] == 0.9
        rec = store.get_run(dead)
        assert rec.status == "interrupted" and rec.error.ename == "Interrupted"
        assert rec.error.cell_index == 2
        assert orphan.wait(timeout=5) is not None  # the orphaned notebook was killed
        assert store.get_run(alive).status == "running"
    finally:
        for p in (orphan, other_owner):
            p.kill()
            p.wait()


def test_missing_notebook_and_bad_parameters_are_refused_before_queueing(runner, store, tmp_path):
    from mlr.execution.errors import NotebookContractError

    with pytest.raises(NotebookContractError, match="not found"):
        runner.submit(str(tmp_path / "nope.ipynb"), {})
    with pytest.raises(ValueError, match="JSON values"):
        runner.submit(str(Path(__file__).parent.parent / "fixtures/notebooks/probe.ipynb"), {"x": object()})
    assert store.list_runs() == []


def test_cancel_while_the_kernel_is_still_starting(runner, probe, store, wait_for):
    before = _descendants()
    run_id = runner.submit(str(probe), {"mode": "loop"})
    run_dir = Path(wait_for(lambda: store.get_run(run_id).run_dir, 30))
    wait_for(lambda: (run_dir / "progress.json").is_file(), 30)  # the child is up; its kernel is starting
    runner.cancel(run_id)
    out = runner.wait(run_id, timeout=30)
    assert out.status == "cancelled"
    assert json.loads((run_dir / "progress.json").read_text())["cells_done"] == 0
    assert _descendants() <= before


def test_app_killed_mid_run_takes_its_notebook_down_and_the_run_is_interrupted(fast_settings, store, probe,
                                                                               wait_for):
    from mlr.config import REPO_ROOT

    app = ("import time\nfrom mlr.config import Settings\nfrom mlr.store import Store\n"
           "from mlr.execution.runner import NotebookRunner\n"
           "s = Settings.from_env()\nr = NotebookRunner(s, Store(s.db_path)).start()\n"
           f"r.submit({str(probe)!r}, {{'mode': 'spawn'}})\ntime.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, "-c", app], cwd=REPO_ROOT)  # MLR_DATA_DIR comes from data_dir
    try:
        run = wait_for(lambda: next(iter(store.list_runs()), None), 30)
        run_dir = Path(wait_for(lambda: store.get_run(run.id).run_dir, 30))
        pids = [int(p) for p in wait_for(lambda: (run_dir / "pids.txt").is_file()
                                         and (run_dir / "pids.txt").read_text().split(), 60)]
        pids.append(store.get_run(run.id).pid)  # papermill's process
    finally:
        proc.kill()  # the app dies without any chance to clean up
        proc.wait()
    assert wait_for(lambda: not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
                                    for p in pids), 20)
    runner = NotebookRunner(fast_settings, store).start()  # the next app start
    runner.stop()
    rec = store.get_run(run.id)
    assert rec.status == "interrupted" and rec.error.ename == "Interrupted"
