"""A real multi-process Ray "cluster" on this machine: `ray start --head` on 127.0.0.1 and a second node process with
a custom resource (node_b). A run that asks for node_b runs there and comes back complete through `python -m mlr run`;
killing that node mid-run marks the run failed with "worker lost", with nothing of it left behind."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from mlr.config import REPO_ROOT
from mlr.store import Store
from tests.support.processes import run_processes

pytestmark = [pytest.mark.timeout(300), pytest.mark.skipif(shutil.which("ray") is None, reason="no ray command")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray(*args, env):
    proc = subprocess.run(["ray", *args], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def _holds_file_under(pid: int, folder: str) -> bool:
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(folder):
                return True
        except OSError:
            continue
    return False


def _cluster_processes(temp: Path) -> list[psutil.Process]:
    """Every process of a Ray started under ``temp``: by its command line, or (Ray's agents rename themselves
    `ray::DashboardAgent`…) by the log files it holds open there."""
    out = []
    for proc in psutil.process_iter(["cmdline"]):
        if str(temp) in " ".join(proc.info["cmdline"] or []) or _holds_file_under(proc.pid, str(temp)):
            out.append(proc)
    return out


def _kill_cluster(temp: Path) -> None:
    for _ in range(2):  # a second pass: whatever a dying daemon started meanwhile
        for proc in _cluster_processes(temp):
            try:
                proc.kill()
            except psutil.Error:
                pass
        time.sleep(0.5)


@pytest.fixture(scope="module")
def cluster():
    temp = Path(tempfile.mkdtemp(prefix="rc", dir="/tmp"))  # short: Ray's socket paths have a length limit
    port = _free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "token"}  # keep token authentication (~/.ray/auth_token) on every node
    common = ["--num-cpus=1", "--object-store-memory=80000000", "--disable-usage-stats"]
    try:
        _ray("start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--include-dashboard=false",
             f"--temp-dir={temp}", *common, env=env)
        _ray("start", f"--address=127.0.0.1:{port}", '--resources={"node_b": 1}', *common, env=env)
        yield {"address": f"127.0.0.1:{port}", "temp": temp, "env": env}
    finally:  # only what this fixture started (never `ray stop`: it would stop every Ray on the machine)
        _kill_cluster(temp)
        shutil.rmtree(temp, ignore_errors=True)


def _node_b_id(cluster) -> str:
    code = (f"import json, ray; ray.init(address={cluster['address']!r}, log_to_driver=False); "
            "print(json.dumps([n['NodeID'] for n in ray.nodes() if n['Alive'] and n['Resources'].get('node_b')]))")
    out = subprocess.run([sys.executable, "-c", code], env=cluster["env"], capture_output=True, text=True, timeout=60,
                         check=False)
    ids = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(ids) == 1, out.stderr[-2000:]
    return ids[0]


def _mlr_run(cluster, *args):
    env = {**os.environ, "MLR_EXECUTOR": "ray", "MLR_RAY_ADDRESS": cluster["address"],
           "MLR_RAY_RESOURCES": '{"node_b": 1}'}
    return subprocess.Popen([sys.executable, "-m", "mlr", "run", *args, "--json"], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_run_scheduled_on_the_other_node_comes_back_complete(cluster, data_dir, settings, probe):
    node_b = _node_b_id(cluster)
    proc = _mlr_run(cluster, str(probe), "-p", "lr", "0.2", "-p", "layers", "[3]")
    stdout, stderr = proc.communicate(timeout=240)
    assert proc.returncode == 0, stderr[-3000:]
    out = json.loads(stdout)
    assert set(out) == {"run_id", "status", "metrics", "metrics_found", "kernel", "notebook", "error", "output_notebook",
                        "seconds"}  # the shape `mlr run --json` has with the local executor
    assert out["status"] == "succeeded" and out["metrics"]["accuracy"] == 0.7 and out["metrics"]["layers"] == [3]
    record = Store(settings.db_path).get_run(out["run_id"])
    assert record.progress.executor == "ray" and record.progress.node_id == node_b  # it ran on node_b
    run_dir = Path(record.run_dir)
    names = {p.name for p in run_dir.iterdir()}
    assert {"output.ipynb", "metrics.json", "output.log", "child.log", "result.json"} <= names
    assert str(data_dir) in out["output_notebook"] and Path(out["output_notebook"]).is_file()


def test_killing_the_node_mid_run_marks_the_run_worker_lost(cluster, data_dir, settings, probe, wait_for):
    store = Store(settings.db_path)
    proc = _mlr_run(cluster, str(probe), "-p", "mode", "loop")
    try:
        run = wait_for(lambda: next(iter(store.list_runs()), None), 60)
        wait_for(lambda: store.get_run(run.id).progress.cell_index == 4, 120)
        worker_dir = store.get_run(run.id).progress.worker_dir
        ours = run_processes("MLR_RUN_DIR", worker_dir)
        workers = {p.ppid() for p in ours} - {p.pid for p in ours}
        assert len(workers) == 1
        worker = psutil.Process(workers.pop())  # the Ray worker process running the task, on node_b
        raylet = worker.parent()
        assert "raylet" in raylet.name() and str(cluster["temp"]) in " ".join(raylet.cmdline())
        for victim in (raylet, worker):  # the node goes away: its raylet and the worker
            os.kill(victim.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, stderr[-3000:]
    out = json.loads(stdout)
    assert out["status"] == "failed" and out["error"]["ename"] == "WorkerLost"
    assert "worker lost" in out["error"]["evalue"]
    assert store.get_run(run.id).status == "failed"
    deadline = time.monotonic() + 20
    while run_processes("MLR_RUN_DIR", worker_dir) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert run_processes("MLR_RUN_DIR", worker_dir) == []  # the kernel went with its worker


def test_app_killed_while_a_ray_run_is_in_flight_leaves_nothing_and_the_run_is_interrupted(data_dir, settings, probe,
                                                                                           wait_for):
    """The app (here a script with its own local Ray instance) dies mid-run: the run's processes on the worker go
    with it, and the next start marks the run interrupted, once."""
    from mlr.execution.runner import NotebookRunner

    temp = Path(tempfile.mkdtemp(prefix="ra", dir="/tmp"))
    app = ("import os, time\nfrom mlr.config import Settings\nfrom mlr.store import Store\n"
           "from mlr.execution.runner import NotebookRunner\nimport ray\n"
           f"ray.init(num_cpus=1, include_dashboard=False, object_store_memory=80_000_000, _temp_dir={str(temp)!r},"
           " namespace='mlr', log_to_driver=False,"
           f" job_config=ray.job_config.JobConfig(code_search_path=[{str(REPO_ROOT)!r}]))\n"
           "s = Settings.from_env()\nr = NotebookRunner(s, Store(s.db_path)).start()\n"
           f"r.submit({str(probe)!r}, {{'mode': 'spawn'}})\ntime.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, "-c", app], cwd=REPO_ROOT, env={**os.environ, "MLR_EXECUTOR": "ray"})
    store = Store(settings.db_path)
    try:
        run = wait_for(lambda: next(iter(store.list_runs()), None), 60)
        worker_dir = wait_for(lambda: store.get_run(run.id).progress.worker_dir, 90)
        wait_for(lambda: (Path(worker_dir) / "pids.txt").is_file(), 90)
        wait_for(lambda: len(run_processes("MLR_RUN_DIR", worker_dir)) >= 4, 30)
    finally:
        proc.kill()  # the app dies without any chance to clean up
        proc.wait()
    try:
        wait_for(lambda: run_processes("MLR_RUN_DIR", worker_dir) == [], 40)  # nothing of the run is left
        runner = NotebookRunner(settings, store).start()  # the next app start
        runner.stop()
        rec = store.get_run(run.id)
        assert rec.status == "interrupted" and rec.error.ename == "Interrupted"
        assert [r.status for r in store.list_runs()] == ["interrupted"]  # nothing double-counted or re-run
    finally:
        _kill_cluster(temp)  # Ray's own daemons of the dead app, if any outlived it
        shutil.rmtree(temp, ignore_errors=True)
