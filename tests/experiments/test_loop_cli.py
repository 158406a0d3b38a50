"""``python -m mlr loop``: the JSON and its statistics, bad input, a killed loop resumed, pause / Ctrl-C / stop
from other processes. Real papermill runs of the toy notebook (tests/support/loop_notebooks.py), parameters
only (no model), small budgets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlr.cli import main
from mlr.experiments import control
from mlr.experiments.stats import summarize, verdict
from mlr.store import FINAL
from tests.support.loop_notebooks import expected_score, toy_notebook

pytestmark = pytest.mark.timeout(300)

REPO = Path(__file__).resolve().parents[2]
NO_PARAMETERS = REPO / "tests" / "fixtures" / "notebooks" / "no_parameters.ipynb"


# -- helpers -----------------------------------------------------------------------------------------------
def _interruptible() -> None:
    # A child inherits an ignored SIGINT (a shell's background job, or something an earlier test in this pytest
    # process set), and Python then never turns Ctrl-C into KeyboardInterrupt: in the full suite the Ctrl-C test
    # saw the loop run on to success. The command must see Ctrl-C as at a terminal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def spawn(*args: str) -> subprocess.Popen:
    """``python -m mlr ARGS`` in its own process group (so it can be killed whole), output captured."""
    return subprocess.Popen([sys.executable, "-m", "mlr", *args], cwd=REPO, env=os.environ.copy(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=_interruptible)


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mlr", *args], cwd=REPO, env=os.environ.copy(), check=False,
                          capture_output=True, text=True, timeout=timeout)


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, dict, str]:
    out, err = proc.communicate(timeout=timeout)
    try:
        return proc.returncode, json.loads(out), err
    except ValueError:
        pytest.fail(f"no JSON on stdout (exit {proc.returncode}):\n{out}\n{err}")


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the loop process ended (exit {proc.returncode}) before {what}: {proc.stderr.read()}")
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def loop_runs(store, loop_id):
    return sorted((r for r in store.list_runs(limit=1000) if (r.data or {}).get("loop_id") == loop_id),
                  key=lambda r: r.id)


def only_loop(store):
    loops = store.list_loops()
    return loops[0] if len(loops) == 1 else None


def baseline(store, loop_id):
    return next((e for e in store.list_experiments(loop_id) if e.kind == "baseline"), None)


def new_run_running(store, loop_id, after: int):
    return next((r for r in loop_runs(store, loop_id) if r.id > after and r.status == "running"), None)


def assert_integrity(store, loop_id, seeds=(0, 1)):
    runs = loop_runs(store, loop_id)
    assert runs
    assert all(r.parameters["seed"] in seeds and r.parameters["test_size"] == 0.25 for r in runs), \
        [r.parameters for r in runs]


# -- the JSON ----------------------------------------------------------------------------------------------
def test_json_carries_decisions_and_the_statistics_of_the_best(data_dir, store, tmp_path, capsys):
    nb = toy_notebook(tmp_path / "modes.ipynb", modes={"worse": -0.1, "better": 0.2}, fixed=["lr"])
    rc = main(["loop", str(nb), "--params-only", "--seeds", "2", "--budget-runs", "5", "--go-on-after-success",
               "--json"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    out = json.loads(captured.out)
    assert set(out) == {"loop_id", "status", "baseline", "best", "success", "stopped_because", "runs_used",
                        "minutes", "experiments"}
    assert out["status"] == "finished" and out["runs_used"] == 5 and out["stopped_because"].startswith("budget")
    assert isinstance(out["minutes"], float) and out["minutes"] > 0
    exps = {e["id"]: e for e in out["experiments"]}
    assert all(set(e) == {"id", "parent_id", "kind", "parameters", "status", "metric_by_seed", "mean", "reason"}
               for e in exps.values())
    base = out["experiments"][0]
    assert base["kind"] == "baseline" and base["metric_by_seed"] == {str(s): expected_score(seed=s) for s in (0, 1)}
    base_values = list(base["metric_by_seed"].values())
    assert out["baseline"] == pytest.approx(summarize(base_values).to_dict())

    by_mode = {e["parameters"].get("mode"): e for e in out["experiments"][1:]}
    assert by_mode["worse"]["status"] == "discarded" and len(by_mode["worse"]["metric_by_seed"]) == 1
    assert by_mode["better"]["status"] == "kept" and len(by_mode["better"]["metric_by_seed"]) == 2

    best = out["best"]
    assert set(best) == {"experiment_id", "kind", "parameters", "diff", "mean", "sd", "n", "relative_improvement",
                         "p_value"}
    assert best["experiment_id"] == by_mode["better"]["id"] and best["kind"] == "parameters"
    values = list(exps[best["experiment_id"]]["metric_by_seed"].values())
    assert values == [expected_score(boost=0.2, seed=s) for s in (0, 1)]
    judged = verdict(base_values, values, True, 0.10)
    assert best["p_value"] == pytest.approx(judged.p_value, rel=1e-9)
    assert best["relative_improvement"] == pytest.approx(judged.relative_improvement, rel=1e-12)
    assert (best["mean"], best["sd"], best["n"]) == pytest.approx((summarize(values).mean, summarize(values).sd, 2))
    assert out["success"] is (judged.status == "success") is True
    assert_integrity(store, out["loop_id"])
    assert "#2 parameters discarded" in captured.err and "#1 parameters kept" in captured.err  # progress lines

    # status prints the same object; a finished loop cannot be resumed
    assert main(["loop", "status", str(out["loop_id"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == out
    assert main(["loop", "resume", str(out["loop_id"])]) == 2
    assert "finished" in capsys.readouterr().err


# -- bad input -----------------------------------------------------------------------------------------------
def _added_plan(store, settings, prototype: str | None) -> int:
    with store.write() as conn:
        paper = store.add_paper(conn, content_hash=f"h{prototype}", file_name="p.pdf", path="/x/p.pdf", title="P",
                                authors=[], year=2024, pages=1, chunks=[], sections=[])
    problem = store.add_problem(paper, {"task": "t", "gaps": [], "keywords": []})
    hypothesis = store.add_hypothesis(problem, {"method": "m", "rationale": "r"})
    return store.add_plan(hypothesis, {"objective": "raise the score", "prototype": prototype})


@pytest.mark.parametrize("argv, message", [
    (["{nb}", "--budget-runs", "0"], "budget"),
    (["{nb}", "--seeds", "0"], "seeds"),
    (["{nb}", "--budget-minutes", "0"], "time budget"),
    (["{missing}"], "notebook not found"),
    (["{noparams}"], "outside the notebook contract"),
    ([], "NOTEBOOK"),
    (["status", "42"], "no loop 42"),
    (["pause", "42"], "no loop 42"),
    (["resume", "42"], "no loop 42"),
    (["stop", "42"], "no loop 42"),
    (["stop"], "LOOP_ID"),
    (["approve", "7"], "no experiment 7"),
    (["--plan", "99"], "no plan 99"),
])
def test_bad_input_exits_2_and_writes_no_loop(data_dir, store, tmp_path, capsys, argv, message):
    nb = toy_notebook(tmp_path / "toy.ipynb")
    subs = {"{nb}": str(nb), "{missing}": str(tmp_path / "missing.ipynb"), "{noparams}": str(NO_PARAMETERS)}
    assert main(["loop", *[subs.get(a, a) for a in argv]]) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("error: ")
    assert store.list_loops() == []


def test_plan_uses_its_prototype_or_asks_for_the_notebook(data_dir, store, settings, capsys):
    toy_notebook(settings.prototypes_dir / "toy.ipynb")
    with_proto, without = _added_plan(store, settings, "toy"), _added_plan(store, settings, None)
    assert main(["loop", "--plan", str(without)]) == 2
    assert "NOTEBOOK" in capsys.readouterr().err
    # the plan's prototype is found (then the budget is refused, so nothing runs)
    assert main(["loop", "--plan", str(with_proto), "--budget-runs", "0"]) == 2
    assert "budget" in capsys.readouterr().err
    assert store.list_loops() == []


# -- a killed loop resumes with nothing lost -----------------------------------------------------------------
def test_killed_loop_is_interrupted_then_resumes_with_the_baseline_intact(data_dir, store, tmp_path):
    nb = toy_notebook(tmp_path / "toy.ipynb", modes={"better": 0.2})
    proc = spawn("loop", str(nb), "--params-only", "--seeds", "2", "--budget-runs", "5", "--json")
    try:
        loop = wait_for(lambda: only_loop(store), 60, "the loop row", proc)
        wait_for(lambda: (b := baseline(store, loop.id)) is not None and b.n == 2, 90, "the baseline", proc)
        base_runs = {r.id for r in loop_runs(store, loop.id)}
        killed = wait_for(lambda: new_run_running(store, loop.id, max(base_runs)), 60, "a candidate's run", proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    before = baseline(store, loop.id)
    assert store.get_loop(loop.id).status == "running"  # nobody told the record
    assert control.recover(store) == [loop.id]
    assert store.get_loop(loop.id).status == "interrupted"

    done = cli("loop", "resume", str(loop.id), "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["status"] == "finished" and out["runs_used"] <= 5
    after = baseline(store, loop.id)
    assert after.run_ids == before.run_ids and after.metric_by_seed == before.metric_by_seed  # nothing re-measured
    assert sorted(after.run_ids) == sorted(base_runs)
    assert [e["id"] for e in out["experiments"] if e["kind"] == "baseline"] == [before.id]
    assert (out["baseline"]["mean"], out["baseline"]["n"]) == (before.mean, 2)
    assert sorted(r.id for r in loop_runs(store, loop.id) if r.data["experiment_id"] == before.id) == sorted(base_runs)
    assert store.get_run(killed.id).status == "interrupted"  # the run the kill cut short ran again
    candidate = next(e for e in store.list_experiments(loop.id) if killed.id in e.run_ids)
    assert candidate.status in ("kept", "discarded") and candidate.data["runs"]["0"] != killed.id
    assert all(r.status in FINAL for r in loop_runs(store, loop.id))
    assert_integrity(store, loop.id)


# -- pause, Ctrl-C and stop from other processes ------------------------------------------------------------
def test_pause_ctrl_c_and_stop_from_other_processes(data_dir, store, tmp_path):
    # Each run sleeps 3 s: Ctrl-C and stop must land while a run is running (on a loaded machine a fast run could
    # finish, and the loop succeed, between seeing the run and the signal).
    nb = toy_notebook(tmp_path / "toy.ipynb", modes={"better": 0.2, "worse": -0.1}, delay_s=3.0)
    proc = spawn("loop", str(nb), "--params-only", "--seeds", "2", "--budget-runs", "8", "--json")
    try:
        loop = wait_for(lambda: only_loop(store), 60, "the loop row", proc)
        wait_for(lambda: store.get_loop(loop.id).runs_used >= 1, 60, "the first run", proc)
        asked = cli("loop", "pause", str(loop.id), "--json")
        assert asked.returncode == 0, asked.stderr
        assert json.loads(asked.stdout)["control"] == "pause"
        rc, out, err = finish(proc, 90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert rc == 0 and out["status"] == "paused", err
    assert out["stopped_because"] == "paused by the researcher"
    measured = {e["id"]: e["metric_by_seed"] for e in out["experiments"] if e["metric_by_seed"]}
    assert out["baseline"]["n"] == 2 and measured  # the measurements are kept

    # resume in the foreground; Ctrl-C pauses it at once and cancels the run it was waiting for
    runs_at_pause = max(r.id for r in loop_runs(store, loop.id))
    proc = spawn("loop", "resume", str(loop.id), "--json")
    try:
        cut = wait_for(lambda: new_run_running(store, loop.id, runs_at_pause), 60, "a run after resume", proc)
        os.kill(proc.pid, signal.SIGINT)
        rc, out, err = finish(proc, 90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert rc == 0 and out["status"] == "paused" and "Ctrl-C" in out["stopped_because"], err
    assert store.get_run(cut.id).status == "cancelled"
    for exp_id, by_seed in measured.items():  # nothing measured before was lost
        assert next(e for e in out["experiments"] if e["id"] == exp_id)["metric_by_seed"].items() >= by_seed.items()

    # resume again, and stop it from a second process: its current run is cancelled
    proc = spawn("loop", "resume", str(loop.id), "--json")
    try:
        cut = wait_for(lambda: new_run_running(store, loop.id, cut.id), 60, "a run after the second resume", proc)
        asked = cli("loop", "stop", str(loop.id))
        assert asked.returncode == 0, asked.stderr
        rc, out, err = finish(proc, 90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert rc == 0 and out["status"] == "stopped" and out["stopped_because"] == "stopped by the researcher", err
    assert store.get_run(cut.id).status == "cancelled"
    assert all(r.status in FINAL for r in loop_runs(store, loop.id))
    assert "running" not in {e["status"] for e in out["experiments"]}
    assert cli("loop", "resume", str(loop.id)).returncode == 2  # a stopped loop has ended
    assert_integrity(store, loop.id)
