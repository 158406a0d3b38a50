"""MLR_MAX_UPLOAD_MB and the server's own cap (server.maxUploadSize in .streamlit/config.toml) are one limit on
the Library page: the setting lowers it, and a setting above the server's cap is reported, never silently
ignored."""

from __future__ import annotations

import tomllib
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
SERVER_MB = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]


request_restore: list = []


def teardown_function():
    while request_restore:
        request_restore.pop()()


def _uploader(monkeypatch, mb: int):
    import streamlit as st

    monkeypatch.setenv("MLR_MAX_UPLOAD_MB", str(mb))
    monkeypatch.chdir(ROOT)
    st.cache_resource.clear()
    from streamlit import config

    # What `streamlit run` reads from the config file, whatever the directory pytest started in.
    previous = config.get_option("server.maxUploadSize")
    config._set_option("server.maxUploadSize", SERVER_MB, "test")
    request_restore.append(lambda: config._set_option("server.maxUploadSize", previous, "test"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    (uploader,) = at.get("file_uploader")
    return uploader.proto


def test_a_lower_setting_lowers_the_browser_cap(data_dir, monkeypatch):
    proto = _uploader(monkeypatch, 10)
    assert proto.max_upload_size_mb == 10 and proto.help.startswith("Up to 10 MB and")


def test_a_setting_above_the_server_cap_is_reported(data_dir, monkeypatch):
    proto = _uploader(monkeypatch, SERVER_MB + 30)
    assert proto.max_upload_size_mb == SERVER_MB
    assert f"Up to {SERVER_MB} MB" in proto.help and "server.maxUploadSize" in proto.help
