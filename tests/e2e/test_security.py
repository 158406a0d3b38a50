"""Security defaults of the served app: loopback only, XSRF on, upload cap, no error details."""

import socket
import tomllib
import urllib.error
import urllib.request

import psutil
import pytest

from mlr.config import REPO_ROOT
from tests.support.browser import AppServer

CONFIG = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())


def test_config_file_sets_the_defaults():
    server = CONFIG["server"]
    assert server["address"] == "127.0.0.1"
    assert server["enableXsrfProtection"] is True
    assert 0 < server["maxUploadSize"] <= 200
    assert CONFIG["client"]["showErrorDetails"] == "none"
    assert CONFIG["browser"]["gatherUsageStats"] is False


def _non_loopback_addresses() -> list[str]:
    out = []
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family == socket.AF_INET and not a.address.startswith("127."):
                out.append(a.address)
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("security")
    app = AppServer(root / "data", root / "server.log").start()
    yield app
    app.stop()


def test_server_listens_on_loopback_only(server):
    listening = [c for c in psutil.net_connections("inet") if c.status == psutil.CONN_LISTEN
                 and c.laddr.port == server.port]
    assert listening and all(c.laddr.ip == "127.0.0.1" for c in listening)
    for address in _non_loopback_addresses():
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex((address, server.port)) != 0, f"reachable on {address}"


def test_state_changing_request_without_xsrf_token_is_refused(server):
    request = urllib.request.Request(f"{server.url}/_stcore/upload_file/session/file", data=b"x", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert info.value.code == 403
