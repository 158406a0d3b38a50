"""Small, fast prototype notebooks for the experiment loop's tests (a few cells, one `score` metric).

``toy_notebook(path)`` writes a notebook whose ``score`` is ``gain + boost[mode] + lr effect + noise(seed)``:

* cell 1 (tagged ``parameters``): ``lr``, ``mode``, ``seed``, ``test_size``;
* cell 2: the noise, drawn from ``random.Random(seed)`` (seeds differ a little, a seed repeats exactly);
* cell 3 (the model cell, editable): ``gain = GAIN`` and the effect of ``mode`` and ``lr``;
* cell 4 (the evaluation cell): ``score`` and ``metrics.json``.

With the defaults the parameters can move ``score`` by at most ``lr_effect`` (+0.02 at best): only an
edit of ``gain`` in cell 3 reaches a 10 % bar. ``modes`` adds a ``mode`` whose choices (metadata
``mlr.choices``) are exactly those given, with their boosts.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}
MODEL_CELL = 3
EVAL_CELL = 4


def model_source(gain: float, boosts: dict[str, float]) -> str:
    return (f"gain = {gain!r}\n"
            f"BOOST = {boosts!r}\n"
            "# lr: at most +0.02, reached near lr = 0.1\n"
            "lr_effect = 0.02 - 0.01 * abs(math.log10(lr / 0.1))\n"
            "raw = gain + BOOST.get(mode, 0.0) + lr_effect")


EVAL_SOURCE = ("score = round(raw + noise, 6)\n"
               "with open('metrics.json', 'w') as fh:\n"
               "    json.dump({'score': score, 'test_size': test_size}, fh)\n"
               "print(score)")


def toy_notebook(path: str | Path, *, gain: float = 0.5, modes: dict[str, float] | None = None,
                 fixed: list[str] | None = None, delay_s: float = 0.0) -> Path:
    """``delay_s``: each run sleeps that long first (a test that interrupts a run needs one still running)."""
    path = Path(path)
    modes = modes or {}
    default_mode = "base"
    meta: dict = {"primary_metric": "score", "higher_is_better": True}
    if modes:
        meta["choices"] = {"mode": list(modes)}
    if fixed:
        meta["fixed"] = list(fixed)
    params = new_code_cell(f"lr = 0.1  # learning rate\n"
                           f"mode = {default_mode!r}  # the variant\n"
                           "seed = 0\n"
                           "test_size = 0.25  # held out for the test split")
    params.metadata["tags"] = ["parameters"]
    cells = [
        new_markdown_cell("# Toy loop task"),
        params,
        new_code_cell("import json\nimport math\nimport random\n\nnoise = random.Random(seed).gauss(0.0, 0.004)"
                      + (f"\nimport time\ntime.sleep({delay_s})" if delay_s else "")),
        new_code_cell(model_source(gain, {default_mode: 0.0, **modes})),
        new_code_cell(EVAL_SOURCE),
    ]
    nb = new_notebook(cells=cells, metadata={"kernelspec": KERNEL, "mlr": meta})
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def expected_score(*, gain: float = 0.5, boost: float = 0.0, lr: float = 0.1, seed: int = 0) -> float:
    import math
    import random

    return round(gain + boost + 0.02 - 0.01 * abs(math.log10(lr / 0.1)) + random.Random(seed).gauss(0.0, 0.004), 6)
