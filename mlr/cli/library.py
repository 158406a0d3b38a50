"""``python -m mlr library add|list|search|remove|chunk|rebuild``: the paper library from the shell."""

from __future__ import annotations

import sys
from pathlib import Path

from mlr.cli.output import emit_json, fail


def register(sub) -> None:
    p = sub.add_parser("library", help="add, list, search and remove papers")
    lib = p.add_subparsers(dest="library_command", required=True)

    a = lib.add_parser("add", help="add PDF files (exit 1 when any file is rejected)")
    a.add_argument("paths", nargs="*", metavar="PATH")
    a.add_argument("--samples", action="store_true", help="also add the bundled sample papers")
    a.add_argument("--json", action="store_true", help="print one object per file")
    a.set_defaults(func=add)

    ls = lib.add_parser("list", help="list the papers")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=list_papers)

    s = lib.add_parser("search", help="passages nearest to a query")
    s.add_argument("query")
    s.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    s.add_argument("--mode", choices=("hybrid", "dense", "keyword"), default="hybrid",
                   help="rankers: both fused (default), embeddings only, or keywords (BM25) only")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=search)

    r = lib.add_parser("remove", help="remove a paper, its passages and vectors (research on it is kept)")
    r.add_argument("paper_id", type=int, metavar="ID")
    r.add_argument("--force", action="store_true",
                   help="remove it; without this, only say what the removal would affect (exit 1)")
    r.set_defaults(func=remove)

    c = lib.add_parser("chunk", help="show one passage by chunk id")
    c.add_argument("chunk_id", metavar="CHUNK_ID")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=chunk)

    rf = lib.add_parser("refs", help="a paper's reference list (never searched), or the entry a citation points to")
    rf.add_argument("paper_id", type=int, metavar="ID")
    rf.add_argument("citation", nargs="?", help='e.g. "[12]" or "(Efron et al., 2004)"')
    rf.set_defaults(func=refs)

    b = lib.add_parser("rebuild", help="re-embed every paper (new indexes built beside the old, then swapped in)")
    b.add_argument("--embedder", choices=("minilm", "ollama"), default=None,
                   help="switch the library to this embedding model (default: the model that built the index)")
    b.set_defaults(func=rebuild)


def _passage_json(p) -> dict:
    return {k: getattr(p, k) for k in ("chunk_id", "paper_id", "file_name", "title", "section", "page", "score",
                                       "found_by", "text")}


def add(args, ws) -> int:
    from mlr.library import AddResult, LibraryError

    if not args.paths and not args.samples:
        return fail("give PDF paths and/or --samples", 2)
    library = ws.library
    paths = []
    for raw in args.paths:  # a folder adds the PDFs in it
        path = Path(raw)
        paths += sorted(path.glob("*.pdf")) + sorted(path.glob("*.PDF")) if path.is_dir() else [raw]
    results = library.add_files([str(p) for p in paths])
    if args.samples:
        try:
            results += library.add_samples()
        except LibraryError as exc:
            results.append(AddResult(file=str(ws.settings.samples_dir), status="rejected", error=str(exc)))
    if args.json:
        emit_json([{"file": r.file, "status": r.status, "paper_id": r.paper_id, "error": r.error} for r in results])
    else:
        for r in results:
            detail = r.error if r.status == "rejected" else f"paper {r.paper_id}, {r.pages} pages, {r.chunks} chunks"
            sys.stdout.write(f"{r.status:9} {r.file}: {detail}\n")
    return 1 if any(r.status == "rejected" for r in results) else 0


def list_papers(args, ws) -> int:
    papers = ws.store.list_papers()  # the record only: no embedding model to load
    rows = [{"id": p.id, "title": p.title, "file_name": p.file_name, "pages": p.pages, "chunks": p.chunks,
             "authors": p.authors, "year": p.year, "sections": p.sections, "added_at": p.added_at} for p in papers]
    if args.json:
        emit_json(rows)
    elif not rows:
        sys.stdout.write("The library is empty: python -m mlr library add PATH... or --samples\n")
    else:
        for r in rows:
            sys.stdout.write(f"{r['id']:>4}  {r['pages']:>3}p {r['chunks']:>4}c  {r['file_name']}  {r['title'] or ''}\n")
    return 0


def search(args, ws) -> int:
    from mlr.library import LibraryError

    library = ws.library
    try:
        passages = library.retriever.search(args.query, k=args.k, mode=args.mode)
    except LibraryError as exc:
        return fail(str(exc))
    if args.json:
        emit_json([_passage_json(p) for p in passages])
    else:
        for p in passages:
            sys.stdout.write(f"{p.score:.3f}  {p.found_by:7}  {p.chunk_id}  {p.title} · {p.section} · p.{p.page}\n"
                             f"       {p.text[:300]}\n")
    return 0


def remove(args, ws) -> int:
    from mlr.library import LibraryError

    paper = ws.store.get_paper(args.paper_id)  # the record only: no embedding model to load for a refusal
    if paper is None:
        return fail(f"There is no paper with id {args.paper_id} in the library.")
    research = ws.store.paper_research(paper.id)
    affected = (f"its {paper.chunks} passages leave the library and search; research built on it stays, its"
                f" citations pointing to a removed paper: {research.describe()}" if research.any else
                f"its {paper.chunks} passages leave the library and search; no research is built on it")
    if not args.force:
        return fail(f"Not removed: paper {paper.id} ({paper.name}): {affected}. Add --force to remove it.")
    try:
        removed = ws.library.remove(paper.id)
    except LibraryError as exc:
        return fail(str(exc))
    sys.stdout.write(f"removed paper {removed.id}: {removed.file_name} ({affected})\n")
    return 0


def chunk(args, ws) -> int:
    from mlr.library import LibraryError
    from mlr.library.retriever import passage

    row = ws.store.get_chunk(args.chunk_id)
    if row is None:
        return fail(str(LibraryError(f"There is no passage with chunk id {args.chunk_id!r}.")))
    p = passage(row)
    if args.json:
        emit_json(_passage_json(p))
    else:
        sys.stdout.write(f"{p.chunk_id}  {p.title} · {p.section} · p.{p.page}\n\n{p.text}\n")
    return 0


def refs(args, ws) -> int:
    from mlr.library.references import resolve

    paper = ws.store.get_paper(args.paper_id)
    if paper is None:
        return fail(f"There is no paper with id {args.paper_id} in the library.")
    entries = list((paper.meta or {}).get("references") or [])
    if args.citation:
        entry = resolve(entries, args.citation)
        if entry is None:
            return fail(f"No reference of paper {paper.id} matches {args.citation!r} ({len(entries)} references).")
        sys.stdout.write(entry + "\n")
        return 0
    for entry in entries:
        sys.stdout.write(entry + "\n")
    if not entries:
        sys.stdout.write(f"No reference list was found in {paper.file_name}.\n")
    return 0


def rebuild(args, ws) -> int:
    from mlr.library import LibraryError
    from mlr.library.embedders import choose_embedder

    try:
        embedder = choose_embedder(ws.settings, args.embedder) if args.embedder else None
        results = ws.library.rebuild(progress=None, embedder=embedder)
    except LibraryError as exc:
        return fail(str(exc))
    for r in results:
        sys.stdout.write(f"{r.status:9} {r.file}: " + (r.error or f"{r.chunks} chunks") + "\n")
    bad = [r for r in results if r.status == "rejected"]
    sys.stdout.write(f"rebuilt the index with {ws.library.embedder.name}: {len(results) - len(bad)} of "
                     f"{len(results)} papers re-indexed" + (f"; {len(bad)} could not be (see above)" if bad else "")
                     + "\n")
    return 1 if bad else 0
