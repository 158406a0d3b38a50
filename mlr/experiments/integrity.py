"""Search-space integrity: which parameters define the evaluation and are therefore never searched.

A loop that may change the seed picks a lucky one; one that may change ``test_size`` "improves" the
score by shrinking the test set. Fixed, in this order (the first rule that matches gives the reason):

1. the seed: ``mlr.seed_parameter`` in the notebook metadata, else a parameter named ``seed``,
   ``random_seed``, ``*_seed`` or ``random_state`` (locked);
2. anything listed in the notebook metadata ``mlr.fixed`` (locked);
3. evaluation-defining names: test/validation split sizes, folds, ``eval_*``, ``n_test``... (locked);
4. data locations: ``data_dir``, ``*_dir``, ``*_path``, ``*_file``, ``*_url``, or a string default
   that looks like a path (locked);
5. a parameter whose help comment says it defines the split, the folds or the population
   ("held out for the test split", "cross-validation folds", "size of the synthetic population").
   Not locked: a heuristic the researcher may overrule.

*Locked* means the researcher cannot make it searchable either (they can always fix more).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mlr.execution.parameters import Parameter

SEED_NAMES = {"seed", "random_seed", "rng_seed", "random_state"}
EVAL_NAMES = {
    "test_size", "test_split", "test_fraction", "test_ratio", "val_size", "val_split", "val_fraction",
    "valid_size", "valid_split", "validation_size", "validation_split", "validation_fraction", "holdout",
    "holdout_size", "holdout_fraction", "train_size", "train_split", "train_fraction", "n_test", "n_val",
    "n_valid", "n_folds", "folds", "k_folds", "kfolds", "cv", "cv_folds", "n_splits", "n_samples",
    "num_samples", "stratify", "shuffle_split", "data", "dataset", "dataset_name", "subset",
}
_EVAL_PREFIXES = ("eval_", "test_", "val_", "validation_", "holdout_")
_DATA_SUFFIXES = ("_dir", "_path", "_file", "_url", "_root", "_folder")
_DATA_NAMES = {"data_dir", "path", "file", "filename", "root", "url", "data_path", "dataset_path"}
_PATHLIKE = re.compile(r"(^[~./\\])|[/\\]|\.(csv|tsv|json|jsonl|parquet|npy|npz|pt|pth|pkl|pickle|h5|hdf5|txt|"
                       r"zip|gz|tar|arrow|feather|xlsx?|ya?ml|ckpt|safetensors|bin)$", re.IGNORECASE)
_HELP_EVAL = re.compile(r"held[- ]out|hold[- ]?out|test split|validation split|train/test|test set|"
                        r"validation set|cross[- ]validation|\bfolds?\b|population|evaluat", re.IGNORECASE)


@dataclass(frozen=True)
class FixedBecause:
    reason: str
    locked: bool


def seed_parameter(params: list[Parameter], metadata: dict[str, Any] | None) -> str | None:
    """The notebook's seed parameter: ``mlr.seed_parameter`` when declared, else the conventional name."""
    declared = (metadata or {}).get("seed_parameter")
    names = [p.name for p in params]
    if declared and declared in names:
        return str(declared)
    for name in ("seed", "random_seed", "rng_seed", "random_state"):
        if name in names:
            return name
    return next((n for n in names if n.endswith("_seed")), None)


def fixed_because(param: Parameter, metadata: dict[str, Any] | None, seed_name: str | None) -> FixedBecause | None:
    """Why ``param`` must stay at its value, or None when integrity does not forbid searching it."""
    meta = metadata or {}
    name, low = param.name, param.name.lower()
    if name == seed_name or low in SEED_NAMES or low.endswith("_seed"):
        return FixedBecause("the seed: runs are repeated over seeds; searching it would pick a lucky seed",
                            locked=True)
    if name in set(meta.get("fixed") or []):
        return FixedBecause("declared fixed by the notebook (metadata mlr.fixed)", locked=True)
    if low in EVAL_NAMES or low.startswith(_EVAL_PREFIXES):
        return FixedBecause("defines the evaluation (split, folds or data size); changing it changes what the "
                            "metric measures", locked=True)
    if low in _DATA_NAMES or low.endswith(_DATA_SUFFIXES) or (
            isinstance(param.default, str) and _PATHLIKE.search(param.default.strip() or "x") is not None):
        return FixedBecause("a data location: the data stays what the baseline used", locked=True)
    if param.help and _HELP_EVAL.search(param.help):
        return FixedBecause(f"its description ({param.help!r}) says it defines the evaluation data or split",
                            locked=False)
    return None
