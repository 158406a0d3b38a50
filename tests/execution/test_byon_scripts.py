"""Scripts not written for this app (issue 17): `# %%`, `# In[ ]:` and sphinx-gallery scripts convert keeping their
cells (one converter for the page's upload and the CLI), and a notebook without a `parameters` cell gets a proposed
cell, tagged in a copy only on confirmation, which then runs with overrides; the original is never written."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mlr.config import REPO_ROOT
from mlr.execution.errors import NotebookContractError
from mlr.execution.mark_parameters import propose, write_marked_copy
from mlr.execution.notebook_source import read_notebook, script_format
from mlr.execution.parameters import inspect_parameters
from mlr.execution.prototypes import add_prototype

pytestmark = pytest.mark.timeout(300)

PERCENT = '''import json

# %% [markdown]
# # A percent script

# %%
learning_rate = 0.5
epochs = 3

# %%
score = learning_rate * epochs
print(f"score: {score}")
'''

IN_PROMPTS = '''#!/usr/bin/env python
# coding: utf-8

# In[1]:


width = 4
height = 2


# In[ ]:


print({"area": width * height})
'''

SPHINX = '''"""
Plotting a line
===============

A gallery example: the text between sections becomes Markdown.
"""
import matplotlib
matplotlib.use("Agg")

###############################################################################
# Settings
# --------
# The slope of the line.

slope = 2.0
points = 5

# %%
# Fit and report
# --------------
import matplotlib.pyplot as plt
ys = [slope * x for x in range(points)]
plt.plot(ys)
plt.show()
print(f"last_y: {ys[-1]}")
'''


def _mlr(*args):
    return subprocess.run([sys.executable, "-m", "mlr", "run", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=240, check=False)


def test_each_script_convention_keeps_its_cells(tmp_path):
    shapes = {}
    for name, text in (("percent", PERCENT), ("in-prompts", IN_PROMPTS), ("sphinx-gallery", SPHINX)):
        path = tmp_path / f"{name}.py"
        path.write_text(text)
        assert script_format(text) == name
        nb = read_notebook(path)
        shapes[name] = [(c.cell_type, c.source.splitlines()[0] if c.source else "") for c in nb.cells]
    assert shapes["percent"] == [("code", "import json"), ("markdown", "# A percent script"),
                                 ("code", "learning_rate = 0.5"), ("code", "score = learning_rate * epochs")]
    assert shapes["in-prompts"] == [("code", "width = 4"), ("code", 'print({"area": width * height})')]
    kinds = [k for k, _ in shapes["sphinx-gallery"]]
    assert kinds.count("markdown") == 3 and ("markdown", "Settings") in shapes["sphinx-gallery"]
    assert ("code", "slope = 2.0") in shapes["sphinx-gallery"]


@pytest.mark.parametrize("name,text,metric", [("percent.py", PERCENT, {"score": 1.5}),
                                              ("gallery.py", SPHINX, {"last_y": 8.0})])
def test_python_m_mlr_run_runs_a_script(data_dir, tmp_path, name, text, metric):
    path = tmp_path / name
    path.write_text(text)
    proc = _mlr(str(path), "--json")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    out = json.loads(proc.stdout)
    assert out["status"] == "succeeded" and out["metrics"] == metric
    assert out["metrics_found"]["source"] == "last output"


def test_a_proposed_parameters_cell_is_tagged_in_a_copy_that_runs_with_overrides(data_dir, settings, tmp_path):
    original = tmp_path / "gallery.py"
    original.write_text(SPHINX)
    before = original.read_bytes()
    nb = read_notebook(original)
    proposal = propose(nb)
    assert proposal is not None and proposal.names == ["slope", "points"]
    assert nb.cells[proposal.cell_index].source.startswith("slope = 2.0")
    with pytest.raises(NotebookContractError, match="no cell tagged `parameters`"):
        inspect_parameters(original)
    copy = write_marked_copy(original, proposal.cell_index, settings.prototypes_dir)
    assert copy.parent == settings.prototypes_dir and copy.suffix == ".ipynb"
    assert [p.name for p in inspect_parameters(copy)] == ["slope", "points"]
    assert original.read_bytes() == before  # the original is never written
    proc = _mlr(str(copy), "-p", "slope", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["metrics"] == {"last_y": 12.0}
    with pytest.raises(NotebookContractError, match="not made only of assignments of literal values"):
        write_marked_copy(original, next(i for i, c in enumerate(nb.cells) if "import matplotlib" in c.source),
                          settings.prototypes_dir)


def test_cli_mark_parameters_runs_the_copy_and_leaves_the_original(data_dir, tmp_path):
    original = tmp_path / "in_prompts.py"
    original.write_text(IN_PROMPTS)
    before = original.read_bytes()
    refused = _mlr(str(original), "-p", "width", "10")
    assert refused.returncode == 2 and "no cell tagged `parameters`" in refused.stderr
    assert "cell 0 sets width, height: add --mark-parameters" in refused.stderr
    proc = _mlr(str(original), "-p", "width", "10", "--mark-parameters", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["metrics"] == {"area": 20} and out["notebook"].endswith("in_prompts-parameters.ipynb")
    assert original.read_bytes() == before


def test_an_upload_without_parameters_cell_is_kept_and_runs_as_is(settings):
    proto = add_prototype(settings, "plain.py", PERCENT.replace("learning_rate = 0.5", "lr = make()").encode())
    assert proto.path.is_file() and proto.path.suffix == ".ipynb"


def test_python_m_mlr_debug_fixes_a_script_in_versions_and_leaves_the_script(data_dir, tmp_path):
    script = tmp_path / "typo.py"
    script.write_text('values = [1, 2, 3]\n\n# %%\ntotal = sum(valeus)\nprint(f"total: {total}")\n')
    before = script.read_bytes()
    proc = subprocess.run([sys.executable, "-m", "mlr", "debug", str(script), "--attempts", "2", "--autopilot", "--json"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=280, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["final_status"] == "succeeded" and out["metrics"] == {"total": 6}
    assert out["final_notebook"].endswith("v1.ipynb") and script.read_bytes() == before
