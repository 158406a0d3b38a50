"""GPU discovery: no NVIDIA driver → no pynvml import (the command line's start-up), a driver → NVML is asked."""

from __future__ import annotations

import sys

import pytest

from mlr import system


@pytest.fixture()
def fresh_nvml(monkeypatch):
    monkeypatch.setattr(system, "_nvml_state", {})
    monkeypatch.delitem(sys.modules, "pynvml", raising=False)
    monkeypatch.setattr(system.sys, "platform", "linux")


def test_no_driver_means_no_gpus_and_no_pynvml_import(fresh_nvml, monkeypatch):
    monkeypatch.setattr(system.os.path, "exists", lambda p: False)
    assert system.gpus() == []
    assert "pynvml" not in sys.modules


def test_a_visible_driver_asks_nvml(fresh_nvml, monkeypatch):
    calls = []

    class FakeNvml:  # the device nodes exist but this machine has no real GPU: NVML answers with no devices
        @staticmethod
        def nvmlInit():
            calls.append("init")

        nvmlDeviceGetCount = staticmethod(lambda: 0)

    monkeypatch.setattr(system.os.path, "exists", lambda p: p == "/dev/nvidiactl")
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml)
    assert system.gpus() == []
    assert calls == ["init"]
