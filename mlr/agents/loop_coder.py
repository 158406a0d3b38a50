"""Code candidates of the experiment loop: the model proposes one cell edit of the best version so far.

The answer is decoded under a schema whose ``cell_index`` may only name a cell the loop lets it change
(never the parameters cell nor a cell that loads, splits or scores the data, see
:mod:`mlr.experiments.guard`), and whose source must compile. The loop checks the edit again with the
guard and runs it only with the researcher's approval or on autopilot.
"""

from __future__ import annotations

from pathlib import Path

from mlr.agents import prompts
from mlr.agents.experiment_schemas import patch_model
from mlr.llm.base import schema_prompt
from mlr.llm.errors import LLMError
from mlr.protocols import LLM, CellEdit, NotebookWorkbench

MAX_CELL_CHARS = 2500


class LoopCoder:
    def __init__(self, llm: LLM, workbench: NotebookWorkbench, *, editable=None):
        """``editable(notebook) -> list[int]``: the cells the model may change (default: every code cell
        except the parameters cell)."""
        self.llm, self.workbench, self.editable = llm, workbench, editable

    def propose(self, *, notebook: str, goal: str, metric: str, higher_is_better: bool, tried: list[dict],
                feedback: list[str], locked_cells: list[int]) -> tuple[CellEdit, str]:
        param_cell = self.workbench.parameters_cell_index(notebook)
        cells = [(i, src) for i, src in self.workbench.code_cells(notebook) if i != param_cell]
        allowed = self.editable(notebook) if self.editable else [i for i, _ in cells]
        allowed = [i for i in allowed if i not in locked_cells]
        if not allowed:
            raise LLMError("no cell of this notebook may be edited by the model (every code cell loads, splits "
                           "or scores the data)")
        schema = patch_model(allowed)
        messages = [{"role": "system", "content": prompts.render("experiment/system")},
                    {"role": "user", "content": prompts.render(
                        "experiment/loop_code", goal=goal or "improve the metric", metric=metric,
                        higher_is_better=higher_is_better, notebook_name=Path(notebook).name,
                        cells=[{"index": i, "source": src[:MAX_CELL_CHARS]} for i, src in cells if i in allowed],
                        locked=sorted(set(i for i, _ in cells) - set(allowed)), tried=tried, feedback=feedback,
                        schema=schema_prompt(schema))}]
        answer = self.llm.structured(messages, schema)
        return CellEdit(cell_index=answer.cell_index, new_source=answer.new_source), answer.explanation
