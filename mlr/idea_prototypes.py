"""A paper's prototype notebook as the IdeaAgent's grounded mode sees it (:class:`PrototypeSpec`).

The link is the notebook metadata ``mlr.paper``: the sample loader lists ``sample_papers/<slug>/paper.pdf``
as ``<slug>.pdf``, and a researcher's added notebook names its paper's file stem the same way. Which
parameters are fixed comes from the experiment loop's integrity rules, so the IdeaAgent never proposes a
change the loop would refuse (the seed, the split, the folds, the data). Built by the Workspace; agents
receive only the plain spec.
"""

from __future__ import annotations

import logging
from pathlib import Path

from mlr.agents.grounding import PrototypeSpec, ProtoParam
from mlr.config import Settings
from mlr.store import Store

log = logging.getLogger(__name__)


def prototype_spec(path: str | Path) -> PrototypeSpec:
    from mlr.execution.parameters import inspect_parameters, read_notebook
    from mlr.execution.prototypes import describe
    from mlr.experiments.integrity import fixed_because, seed_parameter

    proto = describe(path)
    params = inspect_parameters(path)
    meta = read_notebook(path).metadata.get("mlr", {}) or {}
    seed = seed_parameter(params, meta)
    return PrototypeSpec(
        slug=Path(path).parent.name if Path(path).name == "prototype.ipynb" else Path(path).stem,
        title=proto.title, description=proto.description, primary_metric=proto.primary_metric,
        higher_is_better=proto.higher_is_better,
        parameters=[ProtoParam(name=p.name, type=p.type, default=p.default, help=p.help,
                               fixed=(why.reason if (why := fixed_because(p, meta, seed)) else None)) for p in params])


class PaperPrototypes:
    """``paper id -> PrototypeSpec | None``, cached per paper."""

    def __init__(self, settings: Settings, store: Store):
        self.settings, self.store = settings, store
        self._cache: dict[int, PrototypeSpec | None] = {}

    def __call__(self, paper_id: int) -> PrototypeSpec | None:
        if paper_id not in self._cache:
            self._cache[paper_id] = self._find(paper_id)
        return self._cache[paper_id]

    def _find(self, paper_id: int) -> PrototypeSpec | None:
        from mlr.execution.errors import NotebookContractError
        from mlr.execution.prototypes import list_prototypes

        paper = self.store.get_paper(paper_id)
        if paper is None:
            return None
        stem = Path(paper.file_name).stem
        for proto in list_prototypes(self.settings):
            if proto.paper == stem or proto.slug == stem:
                try:
                    return prototype_spec(proto.path)
                except NotebookContractError as exc:
                    log.warning("prototype %s of paper %s unreadable: %s", proto.path, paper_id, exc)
        return None
