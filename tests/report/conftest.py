"""One researched record shared by every report test (its real runs cost ~30 s on 2 cores)."""

from __future__ import annotations

import pytest

from tests.report.research import make_research


@pytest.fixture(scope="package")
def research(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        root = tmp_path_factory.mktemp("research")
        mp.setenv("MLR_DATA_DIR", str(root / "data"))
        mp.setenv("MLR_OLLAMA_HOST", "http://127.0.0.1:9")
        yield make_research(root)
