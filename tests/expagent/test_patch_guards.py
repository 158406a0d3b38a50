"""Patch guards: each refuses a crafted bad patch, the refusal is recorded and the next candidate is tried."""

from __future__ import annotations

import pytest

from mlr.agents.experiment_debug import Debugger
from mlr.agents.patch_guards import check, example_source
from mlr.execution.workbench import NotebookWorkbench
from mlr.llm.scripted import ScriptedLLM

CELLS = [(1, "n = 10"), (2, "length = n * 2\nwidth = 3"), (3, "accuracy = lenght / (n * 2)\nscale = 1\nprint(accuracy)"),
         (4, "import json\njson.dump({'accuracy': accuracy}, open('metrics.json', 'w'))")]
OLD = CELLS[2][1]
GOOD = "accuracy = length / (n * 2)\nscale = 1\nprint(accuracy)"


@pytest.mark.parametrize("guard,new", [
    ("compile", "accuracy = length / (n * 2\nscale = 1\nprint(accuracy)"),
    ("example_echo", example_source()),
    ("example_echo", "mean = total / n\naccuracy = length / (n * 2)\nscale = 1\nprint(accuracy)"),
    ("keeps_cell", "accuracy = 0.5"),
    ("dropped_names", "acc = length / (n * 2)\nscale = 1\nprint(accuracy)"),
    ("undefined_names", "accuracy = lenght_fixed / (n * 2)\nscale = 1\nprint(accuracy)"),
])
def test_each_guard_refuses_a_crafted_bad_patch(guard, new):
    verdict = check(OLD, new, CELLS, 3, {"n": 10})
    assert verdict is not None and verdict.guard == guard, verdict


def test_a_good_patch_passes_every_guard():
    assert check(OLD, GOOD, CELLS, 3, {"n": 10}) is None
    # names from imports, builtins, parameters and the patch's own assignments are known
    assert check(OLD, "import math\naccuracy = math.floor(len([length])) / n\nscale = 1\nprint(accuracy)", CELLS, 3) is None


def _patch(new, why="fix"):
    return {"cell_index": 3, "new_source": new, "explanation": why}


def test_guarded_patches_are_recorded_never_run_and_the_model_is_asked_again(broken, runner, store, settings):
    nb = broken("logic_assert")  # no rule fixes it: the model is asked
    fixed = ("correct = sum(p == y for p, y in zip(preds, labels))\naccuracy = correct / len(preds)\n"
             "assert 0 <= accuracy <= 1, f'accuracy must be a fraction, got {accuracy}'")
    wreck = example_source()  # the demo model's failure: the worked example instead of the cell
    llm = ScriptedLLM([_patch(wreck), _patch("accuracy = 0.9"), _patch(fixed)])
    before = nb.read_bytes()
    result = Debugger(llm, NotebookWorkbench(runner), store, settings).run_loop(nb, {}, autopilot=True)
    assert result.fixed and result.metrics == {"accuracy": 0.875}
    guarded = [a for a in result.attempts if (a["outcome"] or "").startswith("guarded")]
    assert [a["outcome"] for a in guarded] == ["guarded: example_echo", "guarded: keeps_cell"]
    assert all(a["run_id"] is None and a["approved"] is False for a in guarded)  # never run, never applied
    applied = [a for a in result.attempts if a["approved"]]
    assert len(applied) == 1 and "mean = total" not in applied[0]["diff"]
    # The model was asked again with the guard's reason in its prompt.
    assert "example_echo" in llm.prompts[1][-1]["content"]
    assert "keeps_cell" in llm.prompts[2][-1]["content"]
    assert nb.read_bytes() == before


def test_when_every_patch_is_guarded_the_loop_stops_and_leaves_the_notebook_as_it_was(broken, runner, store,
                                                                                     settings):
    nb = broken("logic_assert")
    before = nb.read_bytes()
    llm = ScriptedLLM(default=_patch(example_source()))
    result = Debugger(llm, NotebookWorkbench(runner), store, settings).run_loop(nb, {}, autopilot=True)
    assert not result.fixed and "stopped by a guard" in result.reason and "example_echo" in result.reason
    assert not any(a["approved"] for a in result.attempts)
    assert nb.read_bytes() == before


def test_several_candidates_the_cheapest_survivor_is_proposed_first(broken, runner, store, settings):
    nb = broken("logic_assert")
    small = ("correct = sum(p == y for p, y in zip(preds, labels))\naccuracy = correct / len(preds)\n"
             "assert 0 <= accuracy <= 1, f'accuracy must be a fraction, got {accuracy}'")
    bigger = ("correct = sum(p == y for p, y in zip(preds, labels))\naccuracy = correct / len(preds)\n"
              "accuracy = min(accuracy, 1.0)\nassert 0 <= accuracy <= 1, f'accuracy must be a fraction, got {accuracy}'")
    llm = ScriptedLLM([_patch(bigger), _patch(small)])
    seen = []
    Debugger(llm, NotebookWorkbench(runner), store, settings, candidates=2).run_loop(
        nb, {}, approve=lambda p: seen.append(p) or True)
    assert len(llm.prompts) == 2 and seen[0].new_source == small




def test_a_rewrite_needs_a_reason_and_a_person_never_autopilot():
    rewrite = "accuracy = length / (2 * n)"  # drops `scale = 1` and `print(...)`: 0 of 3 lines kept
    assert check(OLD, rewrite, [c for c in CELLS if c[0] != 4], 3).guard == "keeps_cell"  # no reason
    assert check(OLD, rewrite, [c for c in CELLS if c[0] != 4], 3, rewrite_reason="simpler").guard == "keeps_cell"
    assert check(OLD, rewrite, [c for c in CELLS if c[0] != 4], 3, rewrite_reason="simpler", autopilot=False) is None
    # The other guards still apply to an approved rewrite.
    assert check(OLD, "mean = total / n", CELLS, 3, rewrite_reason="x", autopilot=False).guard == "example_echo"


def test_a_rewrite_with_a_reason_is_offered_for_approval_and_never_applied_on_autopilot(broken, runner, store,
                                                                                      settings):
    nb = broken("logic_assert")
    rewrite = ("correct = sum(p == y for p, y in zip(preds, labels))\naccuracy = correct / len(preds)\n"
               "print('checked')")  # drops the assert and changes the accuracy line: 1 of 3 lines kept
    why = "the assert duplicates the metric check; compute the fraction directly"
    before = nb.read_bytes()
    llm = ScriptedLLM(default={**_patch(rewrite), "rewrite_reason": why})
    dbg = Debugger(llm, NotebookWorkbench(runner), store, settings)
    # On autopilot: stopped by the guard every time, nothing applied, the notebook as it was.
    result = dbg.run_loop(nb, {}, autopilot=True)
    assert not result.fixed and "keeps_cell" in result.reason and "never applied on autopilot" in result.reason
    assert not any(a["approved"] for a in result.attempts) and nb.read_bytes() == before
    # With a person to approve: proposed, with the model's reason shown beside it.
    root_id = dbg.start(nb, {})
    proposal = dbg.propose(root_id)
    assert proposal.rewrite_reason == why and dbg.pending(root_id).rewrite_reason == why


def test_candidates_per_step_is_a_setting_two_for_a_demo_model_one_for_ollama(runner, store, settings):
    from mlr.config import Settings

    class Small:
        demo_grade = True

    class Served:
        demo_grade = False

    wb = NotebookWorkbench(runner)
    assert Debugger(Small(), wb, store, settings).candidates == 2
    assert Debugger(Served(), wb, store, settings).candidates == 1
    configured = Settings.from_env({"MLR_DEBUG_CANDIDATES": "3"}, data_dir=settings.data_dir)
    assert configured.debug_candidates == 3
    assert Debugger(Served(), wb, store, configured).candidates == 3
    assert Debugger(Small(), wb, store, configured, candidates=1).candidates == 1
