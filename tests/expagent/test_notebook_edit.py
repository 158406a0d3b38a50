"""Copy-on-write notebook versions: the original is never written, each patch is a new file, diffs are exact."""

from __future__ import annotations

import nbformat
import pytest

from mlr.execution import notebook_edit as ne
from tests.expagent.conftest import BROKEN


def test_versions_copy_patch_and_keep_every_earlier_file(tmp_path):
    original = BROKEN / "name_typo.ipynb"
    before = original.read_bytes()
    versions = ne.NotebookVersions.start(original, tmp_path / "s")
    v0 = versions.latest()
    assert v0.name == "v0.ipynb" and v0.read_bytes() == before and versions.origin == original.resolve()
    v1, diff = versions.apply(v0, 3, "accuracy = length / (n * 2)")
    assert v1.name == "v1.ipynb" and versions.paths() == [v0, v1]
    assert diff == ("--- a/cell[3]\n+++ b/cell[3]\n@@ -1 +1 @@\n-accuracy = lenght / (n * 2)\n"
                    "+accuracy = length / (n * 2)\n")
    assert nbformat.read(str(v1), 4).cells[3].source == "accuracy = length / (n * 2)"
    assert original.read_bytes() == before and v0.read_bytes() == before
    # Starting again on the same folder keeps what is there (a resumed session).
    assert ne.NotebookVersions.start(original, tmp_path / "s").paths() == [v0, v1]


def test_bad_patches_are_refused_with_a_clear_message(tmp_path):
    v0 = ne.NotebookVersions.start(BROKEN / "name_typo.ipynb", tmp_path / "s").latest()
    versions = ne.NotebookVersions(tmp_path / "s")
    with pytest.raises(ne.NotebookEditError, match="no cell 42"):
        versions.apply(v0, 42, "x = 1")
    with pytest.raises(ne.NotebookEditError, match="markdown cell, not code"):
        versions.apply(v0, 0, "x = 1")
    with pytest.raises(ne.NotebookEditError, match="does not change"):
        versions.apply(v0, 3, "accuracy = lenght / (n * 2)\n")
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    with pytest.raises(ne.NotebookEditError, match="cannot read notebook"):
        ne.NotebookVersions.start(bad, tmp_path / "t")
    assert not (tmp_path / "t").exists() and versions.paths() == [v0]


def test_parameter_defaults_and_parameter_diff():
    assert ne.parameter_defaults(BROKEN / "oom_batch.ipynb") == {"batch_size": 64, "epochs": 1}
    assert ne.parameters_diff({"batch_size": 64, "lr": 0.1}, {"batch_size": 32, "lr": 0.1}) == \
        "--- a/parameters\n+++ b/parameters\n-batch_size = 64\n+batch_size = 32\n"
    assert ne.parameters_diff({"a": 1}, {"a": 1}) == ""
