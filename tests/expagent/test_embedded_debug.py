"""The debug loop with the real embedded model (SmolLM2-135M) on a notebook no rule covers.

A 135M model rarely writes a correct patch; what must hold is that the loop ends cleanly: every
attempt recorded, a reason given, the original untouched, no exception out of the loop.
"""

from __future__ import annotations

import pytest

from mlr.agents.experiment_debug import Debugger
from mlr.execution.workbench import NotebookWorkbench
from mlr.llm.embedded import EmbeddedLLM

pytestmark = pytest.mark.slow


def test_embedded_model_fixes_or_fails_cleanly(broken, runner, store, settings):
    nb = broken("logic_assert")
    before = nb.read_bytes()
    llm = EmbeddedLLM(n_ctx=8192, max_tokens=384, retries=1)
    result = Debugger(llm, NotebookWorkbench(runner), store, settings).run_loop(nb, {}, max_attempts=2, autopilot=True)
    assert nb.read_bytes() == before
    assert llm.usage.calls >= 1  # no rule covers this failure: the model was asked
    assert result.reason and result.attempts[0]["source"] == "initial"
    if result.fixed:
        assert result.final_status == "succeeded" and result.attempts[-1]["source"] == "llm"
    else:
        assert result.final_status == "failed"
        assert ("could not propose" in result.reason or "stopped after" in result.reason
                or "no change" in result.reason or "stopped by a guard" in result.reason), result.reason
        if "stopped by a guard" in result.reason:  # each refused patch is on record, none was applied
            guarded = [a for a in result.attempts if (a["outcome"] or "").startswith("guarded")]
            assert guarded and not any(a["approved"] for a in guarded)
    assert len(store.list_attempts(root_id=result.root_id)) == len(result.attempts)
