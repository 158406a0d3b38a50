"""Fixed overhead of our notebook runner vs the ``papermill`` command line and vs plain ``python``.

The same trivial prototype (a parameters cell, a small loop, metrics.json) is run, interleaved,
``ROUNDS`` times three ways, all measured in this one run on this machine:

- ours:      ``NotebookRunner.run`` (queue in SQLite, child process, kernel, progress, metrics read-back), in
             this already-started process: what the app pays per run
- ours CLI:  ``python -m mlr run in.ipynb -p n 1000 --json`` started as a process: what a person at a terminal
             pays (interpreter, imports, the record, the run's child process, polling)
- papermill: ``python -m papermill in.ipynb out.ipynb -k python3 -p n 1000`` (kernel start included)
- python:    ``python script.py`` running the same code as a script (no kernel at all)

Medians are printed with the ratios ours/papermill and ours CLI/papermill CLI (aim: <= 1.2x) and ours/python.
Usage: ``python benchmarks/bench_runner.py [ROUNDS]``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mlr.config import Settings
from mlr.workspace import Workspace

PARAMS = "n = 100  # loop length"
BODY = ("import json\n"
        "total = sum(i * i for i in range(n))\n"
        "json.dump({'total': total}, open('metrics.json', 'w'))\n"
        "print('total', total)")


def build(folder: Path) -> tuple[Path, Path]:
    cell = new_code_cell(PARAMS)
    cell.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[cell, new_code_cell(BODY)], metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    notebook = folder / "proto.ipynb"
    nbformat.write(nb, str(notebook))
    script = folder / "proto.py"
    script.write_text("n = 1000\n" + BODY + "\n")
    return notebook, script


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        notebook, script = build(root)
        settings = Settings.from_env({}, data_dir=root / "data")
        runner = Workspace.open(settings, serve_queue=True).runner  # the app's runner: it serves the queue
        work = root / "pm"
        work.mkdir()

        def ours():
            out = runner.run(str(notebook), {"n": 1000})
            assert out.status == "succeeded" and out.metrics["total"] == 332833500, out

        cli_env = {**os.environ, "MLR_DATA_DIR": str(root / "cli-data")}

        def ours_cli():
            subprocess.run([sys.executable, "-m", "mlr", "run", str(notebook), "-p", "n", "1000", "--json"],
                           check=True, capture_output=True, env=cli_env, cwd=Path(__file__).resolve().parent.parent)

        def papermill_cli():
            subprocess.run([sys.executable, "-m", "papermill", str(notebook), str(work / "out.ipynb"), "-k", "python3",
                            "-p", "n", "1000", "--cwd", str(work), "--no-progress-bar"], check=True,
                           capture_output=True)

        def python_script():
            subprocess.run([sys.executable, str(script)], cwd=work, check=True, capture_output=True)

        ours()  # warm the OS file cache for every import once, then measure
        ours_cli()
        papermill_cli()
        times: dict[str, list[float]] = {"ours": [], "ours CLI": [], "papermill": [], "python": []}
        for _ in range(rounds):
            times["ours"].append(timed(ours))
            times["ours CLI"].append(timed(ours_cli))
            times["papermill"].append(timed(papermill_cli))
            times["python"].append(timed(python_script))
        runner.stop()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"rounds: {rounds} (interleaved), medians in seconds")
    for name, value in med.items():
        spread = f"{min(times[name]):.2f}-{max(times[name]):.2f}"
        print(f"  {name:10s} {value:6.2f} s   (range {spread})")
    print(f"ours / papermill CLI : {med['ours'] / med['papermill']:.2f}x  (aim <= 1.2x)")
    print(f"ours CLI / papermill CLI: {med['ours CLI'] / med['papermill']:.2f}x  (aim <= 1.2x; both started as "
          "processes)")
    paired = statistics.median(c / p for c, p in zip(times["ours CLI"], times["papermill"], strict=True))
    print(f"ours CLI / papermill CLI, median of the per-round ratios: {paired:.2f}x (robust to load drifting "
          "between rounds)")
    print(f"ours / python script : {med['ours'] / med['python']:.2f}x")
    print(f"papermill / python   : {med['papermill'] / med['python']:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
