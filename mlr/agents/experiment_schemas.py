"""Pydantic schemas of what the ExperimentAgent produces and asks its model for.

The schemas the model answers under are built per call (``pick_model``, ``parameters_model``,
``patch_model``): the choices that exist (prototype names, parameter names and types, code cell
indexes) become enums, types and ``extra='forbid'``, so an answer naming something that does not
exist cannot validate and the LLM layer retries it with the error instead of it reaching a run.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model, field_validator

from mlr.cellcode import compile_error

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
# No maxLength on code: llama.cpp turns maxLength into a grammar of nested optional characters, and
# 8000 of them exceed its limits ("number of rules ... exceeds sane defaults"). The length is checked
# after decoding instead (``_short_enough``), and the token cap bounds the answer anyway.
Source = Annotated[str, StringConstraints(min_length=1)]
MAX_SOURCE_CHARS = 8000

_PY_TYPES: dict[str, Any] = {"bool": bool, "int": int, "float": float, "str": str, "list": list, "dict": dict}


# -- prototype choice -------------------------------------------------------------------------------
class ScoredPrototype(BaseModel):
    name: str
    path: str
    description: str = ""
    similarity: float


class PrototypeRanking(BaseModel):
    ranked: list[ScoredPrototype]
    pick: str
    reason: str
    picked_by: Literal["llm", "similarity", "researcher"] = "llm"


def pick_model(names: list[str]) -> type[BaseModel]:
    """``{"name": <one of names>, "reason": str}``."""
    return create_model("PrototypePick", __config__=ConfigDict(extra="forbid"),
                        name=(Literal[tuple(names)], Field(description="The prototype that fits the plan best.")),
                        reason=(Reason, Field(description="Why it fits, in one or two sentences.")))


# -- adaptation -------------------------------------------------------------------------------------
class CellEditRequest(BaseModel):
    """A change to one code cell that parameters alone cannot express."""

    cell_index: int = Field(description="Index of the code cell to replace.")
    new_source: Source = Field(description="The complete new source of that cell.")
    explanation: Reason


class ProposedEdit(BaseModel):
    cell_index: int
    new_source: str
    explanation: str
    diff: str


class Adaptation(BaseModel):
    """A plan turned into a run: parameter values (validated against the notebook) and optional cell edits."""

    notebook: str
    parameters: dict[str, Any]
    reason: str
    edits: list[ProposedEdit] = Field(default_factory=list)


def _field_type(kind: str):
    return _PY_TYPES.get(kind, Any)


def parameters_model(params: list) -> type[BaseModel]:
    """A model of the notebook's parameters: right types, defaults, and no other names (extra='forbid').

    ``params`` are ``mlr.execution.parameters.Parameter`` objects (name, type, default, help).
    """
    fields = {}
    for p in params:
        typ = _field_type(p.type)
        default = p.default if p.type in _PY_TYPES else None
        fields[p.name] = (typ | None if default is None else typ, Field(default, description=p.help or None))
    return create_model("NotebookParameters", __config__=ConfigDict(extra="forbid"), **fields)


def adaptation_model(params: list, code_cells: list[int]) -> type[BaseModel]:
    params_model = parameters_model(params)
    edit = create_model("CellEdit", __config__=ConfigDict(extra="forbid"),
                        cell_index=(Literal[tuple(code_cells)] if code_cells else int, ...),
                        new_source=(Source, ...), explanation=(Reason, ...))
    return create_model("AdaptationAnswer", __config__=ConfigDict(extra="forbid"),
                        parameters=(params_model, Field(description="Values of the notebook's parameters.")),
                        reason=(Reason, Field(description="How these values implement the plan.")),
                        edits=(list[edit], Field(default_factory=list, max_length=2,
                                                 description="Cell edits, only if parameters cannot do it.")))


# -- debug ------------------------------------------------------------------------------------------
class _PatchBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("new_source", check_fields=False)
    @classmethod
    def _compiles(cls, value: str) -> str:
        if len(value) > MAX_SOURCE_CHARS:
            raise ValueError(f"new_source is longer than {MAX_SOURCE_CHARS} characters; patch one cell only")
        # A patch that does not even compile would waste a run: let the model retry with the error.
        err = compile_error(value)
        if err is not None:
            raise ValueError(f"new_source does not compile: {err.msg} (line {err.lineno})")
        return value


def patch_model(code_cells: list[int]) -> type[BaseModel]:
    """``{"cell_index": <a code cell>, "new_source": str, "explanation": str}``; the source must compile.

    Descriptions are terse labels, not sentences: a small model (SmolLM2-135M) copied the earlier
    prose descriptions into ``new_source`` instead of writing code.
    """
    return create_model("CellPatch", __base__=_PatchBase,
                        cell_index=(Literal[tuple(code_cells)], Field(description="cell index")),
                        new_source=(Source, Field(description="python")),
                        explanation=(Reason, Field(description="reason")),
                        rewrite_reason=(str, Field("", max_length=300, description="empty")))


class Proposal(BaseModel):
    """One proposed fix waiting for the researcher (or autopilot): a cell patch or new parameters."""

    root_id: int
    parent_id: int  # the failed attempt it fixes
    source: str  # "rule:<fixer>" | "llm"
    action: Literal["patch", "parameters"]
    explanation: str
    cell_index: int | None = None
    new_source: str | None = None
    parameters: dict[str, Any] | None = None
    diff: str = ""
    # Set when a model patch replaces most of the cell: the model's reason. Such a patch is offered for approval
    # only, never applied on autopilot (mlr.agents.patch_guards).
    rewrite_reason: str = ""


class DebugResult(BaseModel):
    """What the CLI prints and the page shows when a debug loop ends."""

    fixed: bool
    attempts: list[dict]
    final_status: str
    final_notebook: str
    metrics: dict[str, Any] = Field(default_factory=dict)
    reason: str
    root_id: int
    command: str | None = None  # e.g. the pip install line when a package is missing
