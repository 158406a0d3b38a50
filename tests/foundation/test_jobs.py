"""The shared job board: keyed jobs, lanes that run in order, failures kept as messages."""

from __future__ import annotations

import threading
import time

from mlr.jobs import DONE, FAILED, Jobs


def test_a_second_start_under_a_running_key_returns_the_running_job():
    jobs, gate = Jobs(), threading.Event()
    first = jobs.start("ideas:1", "Problem", lambda job: gate.wait(5) and "first")
    second = jobs.start("ideas:1", "Problem again", lambda job: "second")
    assert second is first
    gate.set()
    assert jobs.wait("ideas:", timeout=5)
    assert first.state == DONE and first.result == "first"
    third = jobs.start("ideas:1", "Problem again", lambda job: "third")  # finished: a new job may start
    assert jobs.wait("ideas:", timeout=5)
    assert third is not first and third.result == "third"


def test_jobs_in_one_lane_run_one_after_another_in_order():
    jobs, order, running, overlap = Jobs(), [], [0], []

    def work(i):
        def run(job):
            running[0] += 1
            overlap.append(running[0])
            time.sleep(0.05)
            order.append(i)
            running[0] -= 1
        return run

    keys = [jobs.start(None, f"file {i}", work(i), lane="library").key for i in range(4)]
    assert len(set(keys)) == 4
    assert jobs.wait("library:", timeout=10)
    assert order == [0, 1, 2, 3]
    assert max(overlap) == 1


def test_a_failure_is_kept_as_a_message_and_an_unexpected_one_says_so():
    jobs = Jobs()
    expected = jobs.start("a", "expected", lambda job: (_ for _ in ()).throw(ValueError("no paper 9")))
    crash = jobs.start("b", "crash", lambda job: [][1])
    assert jobs.wait(timeout=5)
    assert expected.state == FAILED and expected.error == "no paper 9"
    assert crash.state == FAILED and crash.error.startswith("Unexpected error (IndexError)")


def test_progress_lines_and_streamed_text_are_readable_while_it_runs():
    jobs, gate, started = Jobs(), threading.Event(), threading.Event()

    def work(job):
        job.note("Planning hypothesis 1")
        job.on_token('{"objective": ')
        job.progress("embed", 0.5)
        started.set()
        gate.wait(5)

    job = jobs.start("plan:1", "Planning", work)
    assert started.wait(5)
    assert not job.done and job.lines == ["Planning hypothesis 1"] and job.text == '{"objective": '
    assert (job.stage, job.fraction) == ("embed", 0.5)
    assert [j.key for j in jobs.running()] == ["plan:1"]
    jobs.clear("plan:1")  # an unfinished job is never forgotten
    assert jobs.get("plan:1") is job
    gate.set()
    assert jobs.wait(timeout=5)
    jobs.clear("plan:1")
    assert jobs.get("plan:1") is None
