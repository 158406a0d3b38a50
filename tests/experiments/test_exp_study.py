"""The Optuna study: real TPE and SQLite in tmp_path; restart continues; pins, bans, fixed parameters."""

import logging

import pytest

from mlr.execution.parameters import Parameter
from mlr.experiments.space import build_space
from mlr.experiments.study import NoCandidate, ParameterStudy


def space():
    return build_space([Parameter(name="lr", type="float", default=0.1),
                        Parameter(name="kind", type="str", default="a", help='"a", "b" or "c"'),
                        Parameter(name="seed", type="int", default=7),
                        Parameter(name="test_size", type="float", default=0.25)])


def score(params):
    return -abs(params["lr"] - 0.3) + (0.5 if params["kind"] == "b" else 0.0)


def test_ask_merges_fixed_parameters_and_tell_records(tmp_path):
    study = ParameterStudy(tmp_path / "s.sqlite3", space(), seed=1, n_startup_trials=3)
    for _ in range(6):
        number, params = study.ask()
        assert params["seed"] == 7 and params["test_size"] == 0.25
        assert 0.01 <= params["lr"] <= 1.0 and params["kind"] in ("a", "b", "c")
        study.tell(number, score(params))
    best = study.best()
    assert best is not None and best.value == max(score(r.params) for r in study.trials() if r.state == "COMPLETE")


def test_restart_continues_numbering_and_remembers(tmp_path):
    path = tmp_path / "data" / "loop.sqlite3"
    first = ParameterStudy(path, space(), study_name="loop-1", seed=3, n_startup_trials=10)
    told = {}
    for _ in range(3):
        number, params = first.ask()
        told[number] = score(params)
        first.tell(number, told[number])
    pending, _ = first.ask()  # asked, never told: the process "dies" here
    first.pin("kind", "c")
    del first

    again = ParameterStudy(path, space(), study_name="loop-1", seed=3, n_startup_trials=10)
    assert {r.number: r.value for r in again.trials() if r.state == "COMPLETE"} == told
    assert again.running() == [pending]
    assert again.pins == {"kind": "c"}
    number, params = again.ask()
    assert number == pending + 1 and params["kind"] == "c"
    again.tell(pending, None)  # give the interrupted one up
    again.tell(number, 1.0)
    again.tell(number, 1.0)  # telling twice (a resumed loop) is harmless
    assert again.best().number == number
    # the restarted sampler does not replay the first draws (which would be discarded as duplicates)
    assert not [r for r in again.trials() if r.discarded]


def test_failed_runs_and_direction(tmp_path):
    study = ParameterStudy(tmp_path / "s.sqlite3", space(), higher_is_better=False)
    a, _ = study.ask()
    b, _ = study.ask()  # two asked at once (parallel slots)
    study.tell(a, 2.0)
    study.tell(b, float("nan"))
    c, _ = study.ask()
    study.tell(c, 1.0)
    states = {r.number: r.state for r in study.trials()}
    assert states[b] == "FAIL" and study.best().number == c  # minimising


def test_bans_are_respected_and_reported(tmp_path):
    study = ParameterStudy(tmp_path / "s.sqlite3", space(), seed=0)
    study.ban("kind", "a")
    study.ban("kind", "b")
    for _ in range(4):
        number, params = study.ask()
        assert params["kind"] == "c"
        study.tell(number, score(params))
    study.ban("kind", "c")
    with pytest.raises(NoCandidate, match="every value of kind is banned"):
        study.ask()
    with pytest.raises(ValueError, match="seed cannot be pinned"):
        study.pin("seed", 1)


def test_exhausted_small_space_is_reported(tmp_path):
    tiny = build_space([Parameter(name="flag", type="bool", default=False)])
    study = ParameterStudy(tmp_path / "s.sqlite3", tiny, max_retries=10)
    seen = []
    for _ in range(2):
        number, params = study.ask()
        seen.append(params["flag"])
        study.tell(number, 1.0)
    assert sorted(seen) == [False, True]  # never the same configuration twice
    with pytest.raises(NoCandidate, match="exhausted"):
        study.ask()


def test_nothing_searchable(tmp_path):
    only_seed = build_space([Parameter(name="seed", type="int", default=0)])
    with pytest.raises(NoCandidate, match="nothing to search"):
        ParameterStudy(tmp_path / "s.sqlite3", only_seed).ask()


def test_observation_and_quiet_logging(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    study = ParameterStudy(tmp_path / "s.sqlite3", space())
    n = study.add_observation({"lr": 0.1, "kind": "a", "seed": 7, "test_size": 0.25}, 0.42, source="baseline")
    record = study.trials()[n]
    assert record.source == "baseline" and record.value == 0.42 and record.params["seed"] == 7
    number, params = study.ask()
    assert params != record.params  # the baseline configuration is not proposed again
    study.tell(number, 0.5)
    assert not [r for r in caplog.records if r.name.startswith("optuna") and r.levelno < logging.WARNING]


def test_restarted_sampler_does_not_replay_its_first_draws(tmp_path):
    path = tmp_path / "s.sqlite3"
    lrs = []
    for _ in range(2):  # two processes, one after the other, on the same file
        study = ParameterStudy(path, space(), seed=5, n_startup_trials=10)
        for _ in range(2):
            number, params = study.ask()
            lrs.append(params["lr"])
            study.tell(number, score(params))
    assert len(set(lrs)) == 4
    assert not [r for r in study.trials() if r.discarded]  # a replayed draw would be discarded as a duplicate


def test_random_sampler_is_optunas_and_keeps_the_study_rules(tmp_path):
    import optuna

    study = ParameterStudy(tmp_path / "r.sqlite3", space(), seed=2, sampler="random")
    assert isinstance(study.study.sampler, optuna.samplers.RandomSampler)
    seen = []
    for _ in range(5):
        number, params = study.ask()
        assert params["seed"] == 7 and params["test_size"] == 0.25 and params not in seen
        seen.append(params)
        study.tell(number, score(params))
    again = ParameterStudy(tmp_path / "r.sqlite3", space(), seed=2, sampler="random")
    assert isinstance(again.study.sampler, optuna.samplers.RandomSampler) and len(again.trials()) == 5
    with pytest.raises(ValueError, match="unknown sampler"):
        ParameterStudy(tmp_path / "x.sqlite3", space(), sampler="grid")
