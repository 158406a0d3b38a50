"""The settings table of the README and the descriptions in mlr/config.py say what the code does."""

from __future__ import annotations

import re

from mlr.config import REPO_ROOT, Settings

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def _row(variable: str) -> str:
    return next(line for line in README.splitlines() if line.startswith(f"| `{variable}`"))


def test_parallel_runs_are_not_said_to_scale_with_the_gpus():
    assert Settings().max_parallel_runs == 1
    description = Settings.model_fields["max_parallel_runs"].description
    for text in (_row("MLR_MAX_PARALLEL_RUNS"), description):
        assert not re.search(r"one per GPU (by default|when there are several)", text), text
        assert "whatever the" in text  # the default does not depend on the GPUs


def test_upload_limit_is_documented_with_the_server_cap():
    for text in (_row("MLR_MAX_UPLOAD_MB"), Settings.model_fields["max_upload_mb"].description):
        assert "maxUploadSize" in text and ".streamlit/config.toml" in text, text


def test_every_default_in_the_readme_table_is_the_code_default():
    fields = Settings.model_fields
    for line in README.splitlines():
        m = re.match(r"\| `MLR_([A-Z0-9_]+)` \| `([^`]*)` \|", line)
        if not m or m.group(1).lower() not in fields:
            continue
        default = fields[m.group(1).lower()].default
        assert str(default).lower() == m.group(2).lower() or (
            isinstance(default, float) and float(m.group(2)) == default), line
