"""The runner with MLR_EXECUTOR=ray on a local Ray instance: the execution suite's key cases, the same results as the
local executor, cancel and a killed worker with nothing left on the worker, slots, a folder too large to ship."""

import json
import os
import re
import signal
import time
from pathlib import Path

import psutil
import pytest

from mlr.execution.notebook_view import notebook_cells
from mlr.execution.runner import NotebookRunner
from tests.support.processes import run_processes

pytestmark = pytest.mark.timeout(240)


def _gone(pid: int) -> bool:
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_ray_success_with_metrics_parameters_of_each_type_and_progress(ray_runner, probe, store):
    params = {"lr": 0.25, "epochs": 3, "name": "variant", "use_bias": False, "layers": [1, 2, 3],
              "extra": {"seed": 7, "tag": "x"}}
    out = ray_runner.run(str(probe), params, kind="variant", timeout_s=90)
    assert out.status == "succeeded", out.error
    m = out.metrics
    assert m["accuracy"] == 0.75 and m["loss"] == 0.75
    assert m["types"] == {"mode": "str", "lr": "float", "epochs": "int", "name": "str", "use_bias": "bool",
                          "layers": "list", "extra": "dict"}
    assert (m["name"], m["use_bias"], m["layers"], m["extra"]) == ("variant", False, [1, 2, 3], {"seed": 7, "tag": "x"})
    record = store.get_run(out.run_id)
    run_dir = Path(record.run_dir)
    # The files came back through the object store into the run's folder of this data directory.
    assert Path(out.output_notebook).parent == run_dir and Path(out.output_notebook).is_file()
    assert json.loads((run_dir / "metrics.json").read_text())["accuracy"] == 0.75
    assert "epoch 2 lr=0.25" in (run_dir / "output.log").read_text()
    prog = record.progress
    assert prog.executor == "ray" and prog.node and prog.worker_dir and not prog.worker_dir.startswith(str(run_dir))
    assert prog.phase == "finished" and prog.cells_total == 4 and prog.cells_done == 4
    assert record.pid is None  # no process of this machine's driver to watch
    assert not Path(prog.worker_dir).exists()  # the worker's temporary folder is cleaned up
    injected = [c for c in notebook_cells(out.output_notebook) if c.injected]
    assert len(injected) == 1 and "lr = 0.25" in injected[0].source


def test_ray_exception_in_a_cell_records_the_user_cell_index(ray_runner, probe):
    out = ray_runner.run(str(probe), {"mode": "raise", "lr": 0.5})
    assert out.status == "failed"
    err = out.error
    assert err.cell_index == 4 and err.ename == "ValueError" and err.evalue == "boom at lr=0.5"
    assert "raise ValueError" in err.traceback and "\x1b[" not in err.traceback
    assert [c.index for c in notebook_cells(out.output_notebook, 4) if c.failed] == [4]


def test_ray_per_cell_timeout(ray_settings, store, probe):
    runner = NotebookRunner(ray_settings.model_copy(update={"cell_timeout_s": 3.0}), store)
    try:
        out = runner.run(str(probe), {"mode": "loop"})
    finally:
        runner.stop()
    assert out.status == "timed_out"
    assert out.error.ename == "CellTimeoutError" and out.error.cell_index == 4


def test_ray_whole_run_timeout_stops_the_run_on_the_worker(ray_runner, probe, store):
    out = ray_runner.run(str(probe), {"mode": "loop"}, timeout_s=12)
    assert out.status == "timed_out"
    assert out.error.ename == "RunTimeout" and "12 s" in out.error.evalue and out.error.cell_index == 4
    assert Path(out.output_notebook).is_file()
    prog = store.get_run(out.run_id).progress
    assert prog.cpu_percent > 0 and prog.rss_mib > 0 and "looping" in prog.output_tail  # measured on the worker
    assert run_processes("MLR_RUN_DIR", prog.worker_dir) == []


def test_ray_cancel_mid_run_leaves_no_process_on_the_worker(ray_runner, probe, store, wait_for):
    run_id = ray_runner.submit(str(probe), {"mode": "spawn"})
    worker_dir = wait_for(lambda: store.get_run(run_id).progress.worker_dir, 60)
    pids = [int(p) for p in wait_for(lambda: (Path(worker_dir) / "pids.txt").is_file()
                                     and (Path(worker_dir) / "pids.txt").read_text().split(), 60)]
    assert all(psutil.pid_exists(p) for p in pids)  # kernel, a child, a child in its own session
    wait_for(lambda: store.get_run(run_id).progress.processes >= 4, 15)
    assert len(run_processes("MLR_RUN_DIR", worker_dir)) >= 4
    assert ray_runner.cancel(run_id) == "running"
    out = ray_runner.wait(run_id, timeout=60)
    assert out.status == "cancelled" and out.error is None
    assert Path(out.output_notebook).is_file()  # the task saved and sent back the partial notebook
    assert wait_for(lambda: all(_gone(p) for p in pids), 10)
    assert run_processes("MLR_RUN_DIR", worker_dir) == []  # nothing of the run is left on the worker
    assert ray_runner.cancel(run_id) == "cancelled"


def test_ray_cancel_asked_from_another_process(ray_runner, probe, store, settings, wait_for):
    from mlr.store import Store

    run_id = ray_runner.submit(str(probe), {"mode": "loop"})
    wait_for(lambda: store.get_run(run_id).progress.cell_index == 4, 60)
    assert Store(settings.db_path).request_cancel(run_id) == "running"  # e.g. a second tab or the CLI
    assert ray_runner.wait(run_id, timeout=60).status == "cancelled"


def test_ray_worker_killed_mid_run_is_marked_worker_lost(ray_runner, probe, store, wait_for):
    run_id = ray_runner.submit(str(probe), {"mode": "loop"})
    wait_for(lambda: store.get_run(run_id).progress.cell_index == 4, 60)
    worker_dir = store.get_run(run_id).progress.worker_dir
    ours = run_processes("MLR_RUN_DIR", worker_dir)
    workers = {p.ppid() for p in ours} - {p.pid for p in ours}
    assert len(workers) == 1  # the Ray worker process that runs the task is the child's parent
    worker = psutil.Process(workers.pop())
    assert "ray::" in " ".join(worker.cmdline()) or "ray" in worker.name()
    os.kill(worker.pid, signal.SIGKILL)
    out = ray_runner.wait(run_id, timeout=60)
    assert out.status == "failed" and out.error.ename == "WorkerLost"
    assert "worker lost" in out.error.evalue and "run again" in out.error.evalue
    # The child noticed its parent's death and took the kernel down: nothing is left on the worker.
    wait_for(lambda: run_processes("MLR_RUN_DIR", worker_dir) == [], 20)
    again = ray_runner.run(str(probe), {})  # and it can be run again
    assert again.status == "succeeded"


def test_same_notebook_and_parameters_give_identical_results_under_both_executors(fast_settings, ray_settings, store,
                                                                                   probe):
    params = {"lr": 0.3, "epochs": 2, "name": "same", "layers": [2], "extra": {"k": [1, 2]}, "use_bias": False}
    results = {}
    for kind, config in (("local", fast_settings), ("ray", ray_settings)):
        runner = NotebookRunner(config, store)
        try:
            out = runner.run(str(probe), params)
        finally:
            runner.stop()
        assert out.status == "succeeded", out.error
        rec = store.get_run(out.run_id)
        outputs = [c.outputs for c in notebook_cells(out.output_notebook) if not c.injected]
        results[kind] = (out.metrics, Path(rec.run_dir, "output.log").read_text(), outputs,
                         sorted(p.name for p in Path(rec.run_dir).iterdir() if p.name != "spec.json"),
                         rec.progress.cells_total, rec.progress.cells_done)
        assert rec.progress.executor == kind
    assert results["local"] == results["ray"]


def test_two_slots_run_two_runs_at_once(ray_runner, probe, store, wait_for):
    assert ray_runner.executor.slots() == 2  # 2 CPUs, 1 per run; MLR_MAX_PARALLEL_RUNS not set
    ids = [ray_runner.submit(str(probe), {"mode": "loop"}) for _ in range(3)]
    wait_for(lambda: sum(store.get_run(i).status == "running" for i in ids) == 2, 60)
    time.sleep(1.5)
    assert sum(store.get_run(i).status == "running" for i in ids) == 2  # the third waits for a slot
    for i in ids:
        ray_runner.cancel(i)
    assert all(ray_runner.wait(i, timeout=60).status == "cancelled" for i in ids)


def test_max_parallel_runs_caps_the_cluster_slots(ray_settings, store):
    capped = NotebookRunner(ray_settings.model_copy(update={"max_parallel_runs": 1}), store)
    assert capped.executor.slots() == 1


def test_a_prototype_folder_too_large_to_ship_fails_clearly(ray_settings, store, probe):
    runner = NotebookRunner(ray_settings.model_copy(update={"ray_max_ship_mb": 0.001}), store)
    try:
        out = runner.run(str(probe), {})
    finally:
        runner.stop()
    assert out.status == "failed" and out.error.ename == "PrototypeTooLarge"
    assert "MLR_RAY_MAX_SHIP_MB" in out.error.evalue and "MLR_RAY_SHARED_DIR" in out.error.evalue


def test_a_shared_dir_is_used_in_place(ray_settings, store, probe, data_dir, tmp_path):
    import shutil

    proto = data_dir / "proto"
    shutil.copytree(probe.parent, proto)
    runner = NotebookRunner(ray_settings.model_copy(update={"ray_shared_dir": str(data_dir), "ray_max_ship_mb": 0.001}),
                            store)
    try:
        out = runner.run(str(proto / "probe.ipynb"), {"lr": 0.2})  # nothing shipped: the limit does not apply
    finally:
        runner.stop()
    assert out.status == "succeeded" and out.metrics["accuracy"] == 0.7
    assert store.get_run(out.run_id).progress.worker_dir == store.get_run(out.run_id).run_dir


def test_status_describes_the_cluster(ray_settings, ray_runner):
    from mlr.execution.executors import executor_status

    ex = executor_status(ray_settings, ray_runner.executor)
    assert ex["kind"] == "ray" and ex["nodes"] == 1 and ex["slots"] == 2 and ex["gpus_free"] == 0
    assert ex["problem"] is None


def test_an_unreachable_head_is_said_clearly_and_runs_wait_in_the_queue(data_dir, probe):
    import socket
    import subprocess
    import sys

    from mlr.config import REPO_ROOT

    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "MLR_EXECUTOR": "ray", "MLR_RAY_ADDRESS": f"127.0.0.1:{port}"}
    status = subprocess.run([sys.executable, "-m", "mlr", "status", "--json"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert status.returncode == 0, status.stderr
    ex = json.loads(status.stdout)["executor"]
    assert ex["kind"] == "ray" and ex["address"] == f"127.0.0.1:{port}" and ex["nodes"] == 0 and ex["slots"] == 0
    assert "unreachable" in ex["problem"] and "wait in the queue" in ex["problem"]
    script = ("import json, time\nfrom mlr.config import Settings\nfrom mlr.store import Store\n"
              "from mlr.execution.runner import NotebookRunner\n"
              "s = Settings.from_env()\nstore = Store(s.db_path)\nr = NotebookRunner(s, store)\n"
              f"run_id = r.submit({str(probe)!r}, {{}})\ntime.sleep(4)\n"
              "print(json.dumps({'status': store.get_run(run_id).status, 'problem': r.executor.problem()}))\n"
              "r.stop()\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["status"] == "queued" and "unreachable" in out["problem"]


def test_the_experiment_loop_screens_candidates_together_on_ray_slots(ray_settings, tmp_path):
    from mlr.experiments import control
    from mlr.workspace import Workspace
    from tests.support.loop_notebooks import expected_score, toy_notebook

    boosts = {"worse": -0.1, "better": 0.1, "best": 0.2}
    nb = toy_notebook(tmp_path / "modes.ipynb", modes=boosts, fixed=["lr"], delay_s=2.0)
    ws = Workspace(ray_settings)
    try:
        assert ws.runner.executor.slots() == 2
        loop_id = control.create(ws.store, nb, budget_runs=6, seeds=2, params_only=True, stop_at_success=False)
        loop = ws.experiment_loop(use_model=False).run(loop_id)
    finally:
        ws.runner.stop(cancel_running=True)
    assert loop.status == "finished", loop.stopped_because
    exps = ws.store.list_experiments(loop_id)
    candidates = [e for e in exps if e.kind == "parameters"]
    assert len(candidates) >= 2
    for e in candidates:  # every screen measured what the notebook computes for that mode on seed 0
        assert e.metric_by_seed["0"] == expected_score(boost=boosts[e.parameters["mode"]], seed=0)
    # The first two candidates were screened together: their runs overlapped in time on the two slots.
    a, b = (ws.store.get_run(c.run_ids[0]) for c in candidates[:2])
    assert a.started_at < b.finished_at and b.started_at < a.finished_at
    assert loop.runs_used <= 6


def test_the_node_sweep_kills_process_groups_of_a_dead_task_worker(tmp_path):
    """ray.cancel(force=True) kills a task's worker but not the processes it started in a session of their own:
    the next task on the node kills them from the pid file the dead task left."""
    import subprocess
    import sys

    from mlr.execution import procs
    from mlr.execution.child import write_json_atomic
    from mlr.execution.executors.ray_task import sweep

    (tmp_path / "pids").mkdir()
    dead_task = subprocess.Popen([sys.executable, "-c", "pass"])
    task_identity = procs.process_identity(dead_task.pid)
    dead_task.wait()
    orphan = subprocess.Popen(["sleep", "300"], start_new_session=True)  # the run's child, in its own session
    alive_task = subprocess.Popen(["sleep", "300"])
    kept = subprocess.Popen(["sleep", "300"], start_new_session=True)  # the child of a task that still runs
    try:
        left = tmp_path / "run-00001-dead"  # the dead run's temporary folder
        (left / "run").mkdir(parents=True)
        write_json_atomic(tmp_path / "pids" / "1-1.json", {
            "task": task_identity, "groups": [orphan.pid], "dir": str(left),
            "identities": {str(orphan.pid): procs.process_identity(orphan.pid)}})
        write_json_atomic(tmp_path / "pids" / "2-2.json", {
            "task": procs.process_identity(alive_task.pid), "groups": [kept.pid],
            "identities": {str(kept.pid): procs.process_identity(kept.pid)}})
        assert sweep(tmp_path) == [orphan.pid]
        assert orphan.wait(timeout=5) is not None and kept.poll() is None
        assert [p.name for p in (tmp_path / "pids").iterdir()] == ["2-2.json"]
        assert not left.exists()
    finally:
        for p in (orphan, alive_task, kept):
            p.kill()
            p.wait()


def test_cancel_of_a_run_still_waiting_for_a_ray_node(ray_settings, store, probe, wait_for, monkeypatch):
    """A run whose task waits for a resource no node has (say, a GPU type that is busy elsewhere) is cancelled in
    seconds, and its task never starts later."""
    runner = NotebookRunner(ray_settings.model_copy(update={"ray_resources": '{"nowhere": 1}'}), store)
    assert runner.executor.slots() == 0  # the runner would not even submit it...
    monkeypatch.setattr(runner.executor, "slots", lambda: 1)  # ...unless the node that had it went away since
    try:
        run_id = runner.submit(str(probe), {})
        wait_for(lambda: store.get_run(run_id).progress.phase == "waiting for a Ray node", 30)
        started = time.monotonic()
        runner.cancel(run_id)
        out = runner.wait(run_id, timeout=30)
        assert out.status == "cancelled" and time.monotonic() - started < 15
        assert not store.get_run(run_id).progress.worker_dir  # it never ran anywhere
    finally:
        runner.stop()


def test_packing_a_prototype_folder_leaves_out_the_apps_workspace_and_hidden_tooling(tmp_path):
    from mlr.execution.executors import packing

    proto = tmp_path / "proto"
    (proto / "data").mkdir(parents=True)
    (proto / "prototype.ipynb").write_text("{}")
    (proto / "data" / "train.csv").write_text("x,y\n1,2\n")
    (proto / ".git").mkdir()
    (proto / ".git" / "HEAD").write_text("ref")
    workspace = proto / "mlrdata" / "workspace"  # the app's data directory inside the prototype's folder
    (workspace / "runs").mkdir(parents=True)
    (workspace / "mlr.sqlite3").write_bytes(b"x" * 1000)
    data = packing.pack(proto, 10_000, exclude=(workspace,))
    names = packing.unpack(data, tmp_path / "out")
    assert sorted(names) == ["data/train.csv", "prototype.ipynb"]
    assert (tmp_path / "out" / "data" / "train.csv").read_text() == "x,y\n1,2\n"
    with pytest.raises(packing.FolderTooLarge, match="MLR_RAY_MAX_SHIP_MB"):
        packing.pack(proto, 500)  # the workspace counted now: over the limit


@pytest.mark.parametrize("resources,gpus_setting,custom,expected_gpus,expected_slots", [
    ({"CPU": 16.0, "GPU": 2.0}, None, "", 1.0, 2),  # a GPU node: one GPU per run by default
    ({"CPU": 2.0}, None, "", 0.0, 2),  # no GPU: CPU slots
    ({"CPU": 16.0, "GPU": 2.0}, 0.5, "", 0.5, 4),  # half a GPU per run
    ({"CPU": 16.0, "GPU": 2.0, "node_b": 1.0}, None, '{"node_b": 1}', 1.0, 1),  # a custom resource limits too
])
def test_run_slots_follow_the_cluster_resources(ray_settings, store, monkeypatch, resources, gpus_setting, custom,
                                                expected_gpus, expected_slots):
    from mlr.execution.executors import ray_executor

    monkeypatch.setattr(ray_executor, "connect", lambda config: None)
    monkeypatch.setattr(ray_executor, "_resources", lambda refresh=False: dict(resources))
    runner = NotebookRunner(ray_settings.model_copy(update={"ray_gpus_per_run": gpus_setting,
                                                            "ray_resources": custom}), store)
    assert runner.executor.gpus_per_run() == expected_gpus
    assert runner.executor.slots() == expected_slots


@pytest.mark.parametrize("env,message", [
    ({"MLR_EXECUTOR": "slurm"}, "MLR_EXECUTOR='slurm': expected local or ray"),
    ({"MLR_RAY_RESOURCES": "a100"}, "MLR_RAY_RESOURCES='a100': expected a JSON object"),
    ({"MLR_RAY_RESOURCES": '{"a100": "one"}'}, "expected a JSON object of resource names to amounts"),
])
def test_bad_executor_settings_are_refused_with_the_variable_named(env, message):
    from mlr.config import Settings

    with pytest.raises(ValueError, match=re.escape(message)):
        Settings.from_env(env)
    assert Settings.from_env({"MLR_EXECUTOR": "ray", "MLR_RAY_RESOURCES": '{"node_b": 1}'}).executor == "ray"


def test_a_prototype_reads_its_data_file_on_the_worker_with_an_allow_listed_environment(ray_runner, tmp_path):
    """The prototype's folder travels with the run: the notebook reads the CSV beside it through MLR_NOTEBOOK_DIR on
    the worker; the kernel sees the run's variables but none of Ray's (RAY_*: node ids, addresses, tokens)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    proto = tmp_path / "proto"
    proto.mkdir()
    (proto / "points.csv").write_text("x\n1\n2\n3\n")
    params = new_code_cell("scale = 2")
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[params, new_code_cell(
        "import json, os\n"
        "rows = open(os.path.join(os.environ['MLR_NOTEBOOK_DIR'], 'points.csv')).read().split()[1:]\n"
        "json.dump({'total': scale * sum(int(r) for r in rows), 'env': sorted(os.environ),\n"
        "           'notebook_dir': os.environ['MLR_NOTEBOOK_DIR'], 'cwd': os.getcwd()}, open('metrics.json', 'w'))")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, str(proto / "prototype.ipynb"))
    out = ray_runner.run(str(proto / "prototype.ipynb"), {"scale": 10})
    assert out.status == "succeeded", out.error
    m = out.metrics
    assert m["total"] == 60
    assert m["notebook_dir"] != str(proto) and m["notebook_dir"].startswith("/")  # an unpacked copy on the worker
    assert "MLR_RUN_ID" in m["env"] and "MLR_RUN_DIR" in m["env"]
    assert not [k for k in m["env"] if k.startswith("RAY_")], m["env"]
