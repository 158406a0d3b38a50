"""Library: upload papers, load the samples, see and delete papers, search passages."""

import streamlit as st

from mlr import words
from mlr.library import LibraryError
from ui import common, resources
from ui.library_view import handle_uploads, upload_limit
from ui.search_results import search_results

common.through_navigation()  # the first visit to this address too: app.py's navigation
st.title("Library")
settings = resources.settings()
try:
    library = resources.library()
except LibraryError as exc:  # e.g. the offline embedding model is not installed
    st.error(str(exc))
    st.stop()
jobs = resources.library_jobs()

health = library.health()
if not health["ok"]:
    st.warning(health["message"])
    if health.get("embedder_available") is False:  # switching models is the researcher's explicit choice
        if st.button("Switch to the offline model", help="Re-embed every paper with MiniLM (all-MiniLM-L6-v2)"):
            jobs.submit_rebuild(embedder="minilm")
            st.rerun()
    elif st.button("Rebuild index", help="Re-embed every paper with the current embedding model"):
        jobs.submit_rebuild()
        st.rerun()

# -- add papers ----------------------------------------------------------------------------------------
empty = not library.list()
if empty:  # a first visit: what the four pages do, in order
    st.markdown("MLR Copilot takes you from papers to a measured experiment, one page after the other: "
                "**Library** keeps your papers and finds passages in them; **Ideas** turns a paper into a research "
                "problem, related work and hypotheses; **Plan** edits a hypothesis' experiment plan and accepts it; "
                "**Experiment** runs the plan's notebook and compares it with the baseline.")
round_ = st.session_state.setdefault("upload-round", 0)  # a new uploader (emptied) after each upload
limit_mb, limit_words = upload_limit(settings.max_upload_mb)
files = st.file_uploader("Add PDFs", type=["pdf"], accept_multiple_files=True, key=f"upload-{round_}",
                         max_upload_size=limit_mb, help=f"{limit_words} and {settings.max_pdf_pages} pages each.")
add, samples = st.columns([1, 4])
# The primary button is the next step: Upload once files are chosen, else (in an empty library) the samples.
if add.button("Add to library", type="primary" if files else "secondary", key="library-add") and files:
    handle_uploads(jobs, files, settings.uploads_dir / ".incoming")
    st.session_state["upload-round"] = round_ + 1
    st.rerun()
if samples.button("Load sample papers", type="primary" if empty and not files else "secondary", key="library-samples",
                  help="The three short papers bundled with MLR Copilot"):
    if not jobs.submit_samples():
        st.error(f"No sample papers found in {settings.samples_dir}.")
    else:
        st.rerun()


@st.fragment(run_every=1.0)
def progress_panel():
    """Per-file progress of queued work; reruns the page once everything has finished."""
    current = jobs.jobs()
    if not current:
        return
    for job in current:
        shown = job.outcome or job.state  # a paper's outcome (added, duplicate, rejected) once it is known
        state = {"queued": "running", "running": "running", "added": "complete", "duplicate": "complete",
                 "done": "complete"}.get(shown, "error")
        with st.status(f"{job.label} — {shown}", state=state, expanded=not job.done or state == "error"):
            if state != "error":  # a rejected file did not get "done": no full bar beside its error
                st.progress(job.fraction, text=words.stage(job.stage))
            if job.message or job.error:
                (st.error if state == "error" else st.write)(job.message or job.error)
    if not jobs.active():
        if st.button("Clear finished"):
            jobs.clear_finished()
            st.rerun()
        if st.session_state.get("library_busy"):
            st.session_state["library_busy"] = False
            st.rerun()  # refresh the paper table with the new papers
    else:
        st.session_state["library_busy"] = True


progress_panel()

# -- papers --------------------------------------------------------------------------------------------
papers = library.list()
st.subheader(f"Papers ({len(papers)})")
if not papers:
    st.info("The library is empty: upload PDFs above or load the sample papers.")
else:
    st.dataframe(
        [{"id": p.id, "title": p.title, "authors": ", ".join(p.authors[:4]) + (" et al." if len(p.authors) > 4 else ""),
          "year": p.year, "pages": p.pages, "chunks": p.chunks, "file": p.file_name, "added": p.added_at}
         for p in papers],
        hide_index=True, width="stretch")
    with st.expander("Delete a paper"):
        choice = st.selectbox("Paper", papers, format_func=lambda p: f"{p.id} · {p.title or p.file_name}",
                              key="delete_choice")
        research = resources.store().paper_research(choice.id)
        st.warning(f"Its {choice.chunks} passages leave the library and search. " + (
            f"Research built on it stays, its citations marked as pointing to a removed paper: {research.describe()}."
            if research.any else "No research is built on it."))
        confirmed = st.checkbox(f"Yes, remove paper {choice.id}", key=f"delete_confirm-{choice.id}")
        if st.button("Delete paper", type="secondary", disabled=not confirmed):
            try:
                removed = library.remove(choice.id)
                st.toast(f"Deleted {removed.file_name}")
            except LibraryError as exc:
                st.error(str(exc))
            st.rerun()

# -- search --------------------------------------------------------------------------------------------
st.subheader("Search")
col_q, col_k = st.columns([5, 1])
query = col_q.text_input("Search passages", placeholder="e.g. limitations of the baseline")
k = col_k.number_input("Results", min_value=1, max_value=50, value=5)
details = st.toggle("Details: similarity scores and passage ids", key="library-details")
if query.strip():
    try:
        passages = library.retriever.search(query, k=int(k))
    except LibraryError as exc:
        st.error(str(exc))
        passages = []
    if not passages and papers:
        st.info("No passages matched.")
    search_results(passages, query, details=details)
