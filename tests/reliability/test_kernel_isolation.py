"""A notebook run sees no secret of the app's environment and, while online sources are off, no network.

The notebook reads secret-looking variables set in this process (the runner's) and connects to a TCP server this
test starts on the host's loopback; it writes what it got to ``metrics.json``. Real papermill runs, real kernel.
"""

from __future__ import annotations

import socket
import threading

import nbformat
import pytest

from mlr.execution import isolation
from mlr.execution.runner import NotebookRunner

SECRETS = {"MLR_TEST_API_TOKEN": "tok-123", "AWS_SECRET_ACCESS_KEY": "aws-456", "HF_TOKEN": "hf-789",
           "HTTPS_PROXY": "http://user:pass@127.0.0.1:1"}


class _Listener:
    """A TCP server on the host's loopback; ``accepted`` counts connections that reached it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()


@pytest.fixture
def listener():
    server = _Listener()
    yield server
    server.stop.set()
    server.thread.join(2)
    server.sock.close()


def _notebook(path, port: int):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("seed = 0", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(
                    "import json, os, socket\n"
                    f"names = {sorted(SECRETS)!r}\n"
                    "seen = [n for n in names if os.environ.get(n)]\n"
                    "s = socket.socket(); s.settimeout(3)\n"
                    f"connected = s.connect_ex(('127.0.0.1', {port})) == 0\n"
                    "json.dump({'secrets_seen': len(seen), 'connected': int(connected),"
                    " 'isolated_flag': int(os.environ.get('MLR_NET_ISOLATED') == '1'),"
                    " 'has_path': int(bool(os.environ.get('PATH')))}, open('metrics.json', 'w'))")]
    nb.metadata["mlr"] = {"primary_metric": "connected", "higher_is_better": True}
    nbformat.write(nb, str(path))
    return path


def _run(settings, store, notebook, **update):
    runner = NotebookRunner(settings.model_copy(update={"run_timeout_s": 120.0, "cell_timeout_s": 60.0, **update}),
                            store).start()
    try:
        outcome = runner.run(str(notebook), {})
    finally:
        runner.stop(cancel_running=True)
    assert outcome.status == "succeeded", outcome
    return outcome.metrics


def test_kernel_gets_no_secret_and_no_network_while_online_sources_are_off(settings, store, tmp_path, listener,
                                                                            monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    network = isolation.state("auto", online_sources=False)
    assert network.isolated, f"this Linux machine allows network namespaces; isolation is off: {network.reason}"
    metrics = _run(settings, store, _notebook(tmp_path / "nosy.ipynb", listener.port),
                   online_sources=False)
    assert metrics["secrets_seen"] == 0
    assert metrics["has_path"] == 1  # what a kernel needs still reaches it
    assert metrics["connected"] == 0 and listener.accepted == 0, "the kernel reached a server outside its namespace"
    assert metrics["isolated_flag"] == 1


def test_with_online_sources_on_the_kernel_has_the_network_but_still_no_secret(settings, store, tmp_path, listener,
                                                                                monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    metrics = _run(settings, store, _notebook(tmp_path / "nosy.ipynb", listener.port),
                   online_sources=True)
    assert metrics["secrets_seen"] == 0
    assert metrics["connected"] == 1 and listener.accepted >= 1  # the server the first test could not reach
    assert metrics["isolated_flag"] == 0


def test_allow_listed_environment():
    env = isolation.kernel_env({"PATH": "/bin", "LC_ALL": "C", "GITHUB_TOKEN": "x", "OPENAI_API_KEY": "y",
                                "MY_DATA": "/data"}, {"MLR_RUN_ID": "3"}, allow="MY_DATA")
    assert env == {"PATH": "/bin", "LC_ALL": "C", "MY_DATA": "/data", "MLR_RUN_ID": "3"}


def test_isolation_can_be_switched_off_and_says_why():
    assert not isolation.state("on", online_sources=False).isolated
    assert "online sources are on" in isolation.state("auto", online_sources=True).reason


def test_the_debug_replay_gets_what_a_run_gets_no_secret_and_no_network(settings, store, tmp_path, listener,
                                                                        monkeypatch):
    """The debugger's evidence replays the notebook's own cells in a fresh kernel: the same allow-listed
    environment and, while runs are isolated, the same missing network."""
    from mlr.execution.runner import NotebookRunner
    from mlr.execution.workbench import NotebookWorkbench
    from mlr.protocols import RunError, RunOutcome

    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("seed = 0", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(
                    "import os, socket\n"
                    f"seen = len([n for n in {sorted(SECRETS)!r} if os.environ.get(n)])\n"
                    "s = socket.socket(); s.settimeout(3)\n"
                    f"connected = int(s.connect_ex(('127.0.0.1', {listener.port})) == 0)"),
                nbformat.v4.new_code_cell("accuracy = seen + connected + missing_name")]
    path = tmp_path / "nosy_debug.ipynb"
    nbformat.write(nb, str(path))
    runner = NotebookRunner(settings.model_copy(update={"online_sources": False}), store)
    failed = RunOutcome(run_id=0, status="failed", error=RunError(
        ename="NameError", evalue="name 'missing_name' is not defined", cell_index=2,
        traceback="----> 1 accuracy = seen + connected + missing_name"))
    report = NotebookWorkbench(runner).report(failed, path, {})
    values = report.evidence["values"]
    assert values["seen"] == "int = 0" and values["connected"] == "int = 0", values
    assert listener.accepted == 0, "the replay reached a server outside its namespace"
