"""Streamlit-side helpers of the Library page: uploads handed to the job queue, and query highlighting."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import streamlit as st

from mlr.library.uploads import sanitise_name

_STOP = {"the", "and", "for", "with", "that", "this", "from", "are", "was", "were", "has", "have", "not", "but",
         "can", "our", "its", "into", "than", "how", "what", "which", "does", "using", "use"}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def handle_uploads(jobs, uploaded_files, incoming_dir: Path) -> list[int]:
    """Write each upload to a temporary file in the data directory and queue it; returns job ids.

    The bytes are written under a random name (never the user's name), and the job deletes the
    temporary file when it is done; the library keeps its own copy under a sanitised name.
    """
    incoming_dir.mkdir(parents=True, exist_ok=True)
    ids = []
    for f in uploaded_files:
        fd, tmp = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=incoming_dir)
        with open(fd, "wb") as fh:
            fh.write(f.getvalue())
        ids.append(jobs.submit_file(Path(tmp), sanitise_name(f.name), delete_after=True))
    return ids


def upload_limit(max_upload_mb: int) -> tuple[int, str]:
    """The upload cap in MB the browser and server enforce, and its words for the uploader's help.

    ``MLR_MAX_UPLOAD_MB`` can lower the cap; the server refuses a request body above ``server.maxUploadSize``
    (``.streamlit/config.toml``, 50) whatever the widget says, so raising it takes both."""
    server_mb = int(st.get_option("server.maxUploadSize"))
    limit = min(int(max_upload_mb), server_mb)
    note = (f" (MLR_MAX_UPLOAD_MB is {max_upload_mb}, but the server accepts {server_mb} MB at most: raise "
            "server.maxUploadSize in .streamlit/config.toml too)" if max_upload_mb > server_mb else "")
    return limit, f"Up to {limit} MB{note}"


def query_terms(query: str) -> list[str]:
    words = {w.lower() for w in re.findall(r"\w+", query or "") if len(w) >= 3 and w.lower() not in _STOP}
    return sorted(words, key=len, reverse=True)


def highlight(text: str, query: str) -> str:
    """Markdown of ``text`` (special characters escaped) with the query's words highlighted."""
    terms = query_terms(query)
    if not terms:
        return _MD_SPECIAL.sub(r"\\\1", text)
    pattern = re.compile(r"\b(" + "|".join(re.escape(t) for t in terms) + r")\w*", re.IGNORECASE)
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(_MD_SPECIAL.sub(r"\\\1", text[last:m.start()]))
        out.append(f"**:orange-background[{_MD_SPECIAL.sub(r'', m.group(0))}]**")
        last = m.end()
    out.append(_MD_SPECIAL.sub(r"\\\1", text[last:]))
    return "".join(out)
