"""A missing package: tell the researcher the exact ``pip install`` line and stop (never install).

A name that is one typo away from an installed module (``import nunpy``) is a code error instead,
and gets a patch of the import.
"""

from __future__ import annotations

import pkgutil
import re
import sys
from functools import lru_cache

from mlr.execution.fixers.base import ErrorReport, Fix, FixContext, closest, replace_name

_NO_MODULE = re.compile(r"No module named '([\w.]+)'")

# Import names whose distribution is named differently on PyPI.
PIP_NAMES = {
    "sklearn": "scikit-learn", "cv2": "opencv-python", "PIL": "pillow", "yaml": "pyyaml",
    "bs4": "beautifulsoup4", "skimage": "scikit-image", "Crypto": "pycryptodome", "dateutil": "python-dateutil",
    "dotenv": "python-dotenv", "jose": "python-jose", "faiss": "faiss-cpu", "google.protobuf": "protobuf",
    "attr": "attrs", "OpenSSL": "pyopenssl", "magic": "python-magic", "serial": "pyserial",
    "Levenshtein": "python-Levenshtein", "tensorflow_datasets": "tensorflow-datasets", "llama_cpp":
    "llama-cpp-python", "sentence_transformers": "sentence-transformers", "umap": "umap-learn",
}


@lru_cache(maxsize=1)
def installed_top_level() -> frozenset[str]:
    names = set(sys.stdlib_module_names) | set(sys.builtin_module_names)
    names.update(m.name for m in pkgutil.iter_modules())
    return frozenset(names)


def pip_command(module: str) -> str:
    top = module.split(".")[0]
    return f"pip install {PIP_NAMES.get(module, PIP_NAMES.get(top, top.replace('_', '-')))}"


def fix(report: ErrorReport, ctx: FixContext) -> Fix | None:
    if report.ename not in {"ModuleNotFoundError", "ImportError"}:
        return None
    m = _NO_MODULE.search(report.evalue)
    if not m:
        return None
    module = m.group(1)
    top = module.split(".")[0]
    # A short or well-known name is a real package (cv2 is not a typo of csv); a longer unknown one near an
    # installed module (nunpy, pandsa) is a typo.
    known = top in PIP_NAMES or module in PIP_NAMES or len(top) < 5 or top in installed_top_level()
    typo = None if known else closest(top, installed_top_level())
    if typo and report.cell_index is not None and re.search(rf"\b(import|from)\s+{re.escape(top)}\b",
                                                            report.cell_source):
        new = replace_name(report.cell_source, top, typo)
        if new != report.cell_source:
            return Fix(action="patch", fixer="missing_module", cell_index=report.cell_index, new_source=new,
                       explanation=f"`{top}` is not installed but `{typo}` is: the import looks misspelled.")
    command = pip_command(module)
    return Fix(action="stop", fixer="missing_module", command=command,
               explanation=(f"the package providing `{module}` is not installed in the kernel's environment. "
                            f"Install it yourself, then run again: `{command}` (MLR Copilot never installs "
                            f"packages on its own)."))
