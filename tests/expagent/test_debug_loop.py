"""The debug loop against real runs (papermill, real kernels) with a scripted model."""

from __future__ import annotations

import json

import pytest

from mlr.agents.experiment_debug import Debugger, DebugStop
from mlr.agents.experiment_schemas import patch_model
from mlr.execution.workbench import NotebookWorkbench
from mlr.llm.scripted import ScriptedLLM
from tests.expagent.conftest import BROKEN, MANIFEST

FIXED_ASSERT_CELL = ("correct = sum(p == y for p, y in zip(preds, labels))\naccuracy = correct / len(preds)\n"
                     "assert 0 <= accuracy <= 1, f'accuracy must be a fraction, got {accuracy}'")


LOGIC = "correct = sum(p == y for p, y in zip(preds, labels))"  # the logic_assert fixture's failing cell, first and last lines
ASSERT = "assert 0 <= accuracy <= 1, f'accuracy must be a fraction, got {accuracy}'"

def patch(cell_index, new_source, explanation="fix"):
    return {"cell_index": cell_index, "new_source": new_source, "explanation": explanation}


def debugger(llm, runner, store, settings, **kw) -> Debugger:
    return Debugger(llm, NotebookWorkbench(runner), store, settings, **kw)


def test_llm_patch_applied_on_approval_reruns_and_never_touches_the_original(broken, runner, store, settings):
    nb = broken("logic_assert")
    before = nb.read_bytes()
    llm = ScriptedLLM([patch(3, FIXED_ASSERT_CELL, "accuracy was a percentage; made it a fraction")])
    seen = []
    result = debugger(llm, runner, store, settings).run_loop(nb, {}, approve=lambda p: seen.append(p) or True)
    assert result.fixed and result.final_status == "succeeded"
    assert result.metrics == {"accuracy": 0.875}
    assert nb.read_bytes() == before  # the prototype is never modified
    assert result.final_notebook != str(nb) and result.final_notebook.endswith("v1.ipynb")
    proposal = seen[0]
    assert proposal.source == "llm" and "-accuracy = correct / len(preds) * 100" in proposal.diff
    root, child = result.attempts
    assert (root["is_buggy"], root["depth"], root["source"]) == (True, 0, "initial")
    assert (child["parent_id"], child["depth"], child["is_buggy"], child["approved"]) == (root["id"], 1, False, True)
    assert store.get_run(child["run_id"]).status == "succeeded"
    # The model saw the failing cell, the error and the schema restricted to the notebook's code cells.
    prompt = llm.prompts[0][-1]["content"]
    assert "AssertionError" in prompt and "accuracy = correct / len(preds) * 100" in prompt
    assert llm.schemas[0]["properties"]["cell_index"]["enum"] == [1, 2, 3, 4]
    # The failing cell and its error come last, right before the request (small models read the end best).
    assert prompt.rstrip().endswith(FIXED_ASSERT_CELL.replace("accuracy = correct / len(preds)\n",
                                                              "accuracy = correct / len(preds) * 100\n")
                                    + "\nError: AssertionError: accuracy must be a fraction, got 87.5\nAnswer:")
    # One worked example precedes it as a finished exchange, and its answer is a valid patch.
    roles = [m["role"] for m in llm.prompts[0]]
    assert roles == ["system", "user", "assistant", "user"]
    example = patch_model([2]).model_validate_json(llm.prompts[0][2]["content"])
    assert example.cell_index == 2 and "round(mean, 2)" in example.new_source
    # Schema descriptions are terse labels: prose there was copied into new_source by a 135M model.
    assert all(len(f.get("description", "")) <= 12 for f in llm.schemas[0]["properties"].values())


def test_rejected_rule_is_recorded_and_the_model_is_asked_next(broken, runner, store, settings):
    nb = broken("name_typo")
    llm = ScriptedLLM([patch(3, "accuracy = length / (n * 2)", "use the variable defined above")])
    answers = iter([False, True])
    result = debugger(llm, runner, store, settings).run_loop(nb, {}, approve=lambda p: next(answers))
    assert result.fixed
    sources = [(a["source"], a["approved"], a["outcome"]) for a in result.attempts]
    assert sources == [("initial", None, "failed"), ("rule:did_you_mean", False, "rejected"),
                       ("llm", True, "succeeded")]
    assert "rejected by the researcher" in llm.prompts[0][-1]["content"]


def test_attempt_limit_stops_the_loop(broken, runner, store, settings):
    nb = broken("logic_assert")  # no rule fixes a logic bug; the model's patch keeps it
    still_broken = ("correct = sum(p == y for p, y in zip(preds, labels))\naccuracy = correct / len(preds) * 100\n"
                    "assert 0 <= accuracy <= 1, 'still a percentage'")
    llm = ScriptedLLM(default=patch(3, still_broken))
    result = debugger(llm, runner, store, settings).run_loop(nb, {}, max_attempts=1, autopilot=True)
    assert not result.fixed and result.final_status == "failed"
    assert result.reason == "stopped after 1 attempt(s) without a successful run"
    assert [a["depth"] for a in result.attempts] == [0, 1]


@pytest.mark.parametrize("name,needle", [("missing_package", "pip install opencv-python"),
                                         ("timeout", "time limit")])
def test_unfixable_failures_stop_at_once_without_asking_the_model(name, needle, broken, runner, store, settings):
    llm = ScriptedLLM()  # an empty queue: any call would raise
    timeout = 8 if name == "timeout" else None  # a loaded CI machine needs seconds just to start a kernel
    result = debugger(llm, runner, store, settings, timeout_s=timeout).run_loop(broken(name), {}, autopilot=True)
    assert not result.fixed and needle in result.reason and len(result.attempts) == 1
    assert llm.usage.calls == 0
    if name == "missing_package":
        assert result.command == "pip install opencv-python"


def test_feedback_reaches_the_next_prompt_and_undo_restores_the_previous_version(broken, runner, store, settings):
    nb = broken("logic_assert")  # no rule fixes it: the model's patches are the fixes
    llm = ScriptedLLM([patch(3, f"{LOGIC}\naccuracy = correct / len(preds) * 10\n{ASSERT}", "first try"),
                       patch(3, f"{LOGIC}\naccuracy = correct / len(preds)\n{ASSERT}", "a fraction")])
    dbg = debugger(llm, runner, store, settings)
    root_id = dbg.start(nb, {})
    first = dbg.propose(root_id)
    child = dbg.decide(first, True)
    assert child.is_buggy and dbg.current(root_id).id == child.id
    back = dbg.undo(root_id)
    assert back.id == root_id and dbg.current(root_id).notebook.endswith("v0.ipynb")
    dbg.feedback(root_id, "accuracy is a fraction: do not scale it")
    second = dbg.propose(root_id)
    assert second.parent_id == root_id  # the undone branch is left as a sibling in the tree
    prompt = llm.prompts[-1][-1]["content"]
    assert "accuracy is a fraction: do not scale it" in prompt and "undo: went back" in prompt
    fixed = dbg.decide(second, True)
    assert not fixed.is_buggy and fixed.notebook.endswith("v2.ipynb")
    tree = {a.id: a.parent_id for a in dbg.attempts(root_id)}
    assert tree == {root_id: None, child.id: root_id, fixed.id: root_id}
    with pytest.raises(DebugStop):
        dbg.propose(root_id)  # nothing left to fix
    assert dbg.undo(root_id).id == root_id


def test_without_autopilot_or_approver_the_loop_stops_asking_for_approval(broken, runner, store, settings):
    result = debugger(None, runner, store, settings).run_loop(broken("syntax_colon"), {})
    assert not result.fixed and result.reason.startswith("approval needed")
    assert (result.attempts[-1]["approved"], result.attempts[-1]["outcome"]) == (None, "awaiting approval")
    assert "+for epoch in range(epochs):" in result.attempts[-1]["diff"]


def test_model_failure_is_a_clean_stop(broken, runner, store, settings):
    llm = ScriptedLLM(default="not json at all")
    result = debugger(llm, runner, store, settings).run_loop(broken("logic_assert"), {}, autopilot=True)
    assert not result.fixed and "could not propose a patch" in result.reason


RULE_CASES = sorted(n for n, m in MANIFEST.items() if m["rule"])


@pytest.mark.slow
@pytest.mark.parametrize("name", RULE_CASES)
def test_rules_alone_handle_each_rule_class_within_three_attempts(name, broken, runner, store, settings):
    expected = MANIFEST[name]
    timeout = 8 if name == "timeout" else None
    result = debugger(None, runner, store, settings, timeout_s=timeout).run_loop(broken(name), {}, max_attempts=3,
                                                                                autopilot=True, use_llm=False)
    if expected["expect"] == "fixed":
        assert result.fixed, result.reason
        assert all(a["source"] in ("initial", f"rule:{expected['rule']}") for a in result.attempts)
    else:
        assert not result.fixed and len(result.attempts) == 1
        if expected["command"]:
            assert expected["command"] in result.reason


def test_suite_has_at_least_twelve_notebooks_including_ones_no_rule_covers():
    assert len(list(BROKEN.glob("*.ipynb"))) == len(MANIFEST)
    assert len(MANIFEST) >= 12 and sum(1 for m in MANIFEST.values() if m["rule"] is None) >= 3
    for name in MANIFEST:
        nb = json.loads((BROKEN / f"{name}.ipynb").read_text())
        assert any("parameters" in c["metadata"].get("tags", []) for c in nb["cells"])
