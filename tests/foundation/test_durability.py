"""Durability: atomic writes reach the disk before they replace a file, the record syncs every commit, and an
upload a crash left behind is removed when the app starts."""

from __future__ import annotations

import os
import time

from mlr import atomic
from mlr.store import Store
from mlr.workspace import Workspace


def test_atomic_write_fsyncs_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", str(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    target = tmp_path / "index.bin"
    atomic.write_bytes(target, b"vectors")

    assert target.read_bytes() == b"vectors"
    kinds = [kind for kind, _ in events]
    assert kinds == ["fsync", "replace", "fsync"], events
    assert os.path.basename(events[0][1]).startswith(".index.bin.")  # the new file's data, before it replaces
    assert events[2][1] == str(tmp_path)  # then the folder, so the rename itself survives a power cut


def test_a_failed_write_fsyncs_nothing_and_leaves_the_old_file(tmp_path):
    target = tmp_path / "a.txt"
    atomic.write_text(target, "old")
    try:
        with atomic.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    except RuntimeError:
        pass
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_the_record_syncs_every_commit(store: Store):
    with store.read() as conn:
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_app_removes_uploads_a_crash_left_behind(settings):
    incoming = settings.uploads_dir / ".incoming"  # where the Library page writes uploads in flight
    incoming.mkdir(parents=True, exist_ok=True)
    crashed, in_flight = incoming / "upload-crashed.part", incoming / "upload-live.part"
    crashed.write_bytes(b"%PDF-1.7 half")
    in_flight.write_bytes(b"%PDF-1.7 another app's queued upload")
    two_hours_ago = time.time() - 7200
    os.utime(crashed, (two_hours_ago, two_hours_ago))

    Workspace.open(settings).close()  # a CLI command: not the app, removes nothing
    assert crashed.exists()

    Workspace.open(settings, serve_queue=True).close()  # the app starting
    assert not crashed.exists()
    assert in_flight.exists()  # recent: may be another app process's upload waiting in its queue
