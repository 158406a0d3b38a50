"""Schema migrations of the research record, applied in order, each exactly once.

A migration is ``(version, name, sql)``. Append new ones at the end with the next version
number; never edit one that has shipped (existing records already applied it).
Agent outputs are kept whole as JSON in ``data`` columns; relations and the fields the
program filters on are real columns.
"""

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "initial research record",
        """
        CREATE TABLE papers (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            content_hash TEXT NOT NULL UNIQUE,
            file_name TEXT NOT NULL,
            path TEXT NOT NULL,
            title TEXT,
            authors TEXT NOT NULL DEFAULT '[]',
            year INTEGER,
            pages INTEGER NOT NULL DEFAULT 0,
            chunks INTEGER NOT NULL DEFAULT 0,
            sections TEXT NOT NULL DEFAULT '[]',
            meta TEXT NOT NULL DEFAULT '{}',
            added_at TEXT NOT NULL
        );
        CREATE TABLE chunks (
            id TEXT PRIMARY KEY,
            paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL,
            vector_id INTEGER NOT NULL UNIQUE,
            section TEXT NOT NULL,
            page INTEGER NOT NULL,
            n_tokens INTEGER NOT NULL,
            text TEXT NOT NULL
        );
        CREATE INDEX chunks_paper ON chunks(paper_id, ordinal);
        CREATE TABLE problems (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
            data TEXT NOT NULL,
            related TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL
        );
        CREATE TABLE hypotheses (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            problem_id INTEGER NOT NULL REFERENCES problems(id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL,
            version INTEGER NOT NULL,
            data TEXT NOT NULL,
            review TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE hypothesis_versions (
            hypothesis_id INTEGER NOT NULL REFERENCES hypotheses(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            data TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            PRIMARY KEY (hypothesis_id, version)
        );
        CREATE TABLE plans (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            hypothesis_id INTEGER NOT NULL UNIQUE REFERENCES hypotheses(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            data TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'accepted')),
            accepted_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE plan_versions (
            plan_id INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            data TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            PRIMARY KEY (plan_id, version)
        );
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            plan_id INTEGER REFERENCES plans(id) ON DELETE SET NULL,
            kind TEXT NOT NULL DEFAULT 'adhoc',
            notebook TEXT NOT NULL,
            parameters TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'queued',
            run_dir TEXT,
            output_notebook TEXT,
            pid INTEGER,
            progress TEXT NOT NULL DEFAULT '{}',
            metrics TEXT,
            error TEXT,
            queued_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT,
            data TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX runs_status ON runs(status, id);
        CREATE INDEX runs_plan ON runs(plan_id, id);
        CREATE TABLE attempts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            plan_id INTEGER REFERENCES plans(id) ON DELETE SET NULL,
            parent_id INTEGER REFERENCES attempts(id) ON DELETE SET NULL,
            run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
            depth INTEGER NOT NULL DEFAULT 0,
            source TEXT NOT NULL,
            notebook TEXT NOT NULL,
            diff TEXT NOT NULL DEFAULT '',
            explanation TEXT NOT NULL DEFAULT '',
            approved INTEGER,
            is_buggy INTEGER,
            outcome TEXT,
            created_at TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}'
        );
        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            plan_id INTEGER REFERENCES plans(id) ON DELETE CASCADE,
            attempt_id INTEGER REFERENCES attempts(id) ON DELETE SET NULL,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """,
    ),
    (
        3,
        "run ownership, cancel requests, per-run timeout and duration",
        """
        ALTER TABLE runs ADD COLUMN owner TEXT;
        ALTER TABLE runs ADD COLUMN pid_identity TEXT;
        ALTER TABLE runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN timeout_s REAL;
        ALTER TABLE runs ADD COLUMN seconds REAL;
        """,
    ),
    (
        4,
        "which model generated each problem, hypothesis and plan",
        """
        ALTER TABLE problems ADD COLUMN generated_by TEXT NOT NULL DEFAULT '';
        ALTER TABLE hypotheses ADD COLUMN generated_by TEXT NOT NULL DEFAULT '';
        ALTER TABLE plans ADD COLUMN generated_by TEXT NOT NULL DEFAULT '';
        """,
    ),
    (
        5,
        "experiment loops: their experiments (nodes) and the researcher's notes to them",
        """
        CREATE TABLE loops (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            plan_id INTEGER REFERENCES plans(id) ON DELETE SET NULL,
            notebook TEXT NOT NULL,
            goal TEXT NOT NULL DEFAULT '',
            config TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'created',
            control TEXT,
            stopped_because TEXT NOT NULL DEFAULT '',
            owner TEXT,
            runs_used INTEGER NOT NULL DEFAULT 0,
            seconds REAL NOT NULL DEFAULT 0,
            best_id INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            finished_at TEXT,
            data TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX loops_status ON loops(status, id);
        CREATE TABLE loop_experiments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            loop_id INTEGER NOT NULL REFERENCES loops(id) ON DELETE CASCADE,
            parent_id INTEGER REFERENCES loop_experiments(id) ON DELETE SET NULL,
            ordinal INTEGER NOT NULL,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            notebook TEXT NOT NULL,
            parameters TEXT NOT NULL DEFAULT '{}',
            diff TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL DEFAULT '',
            trial INTEGER,
            metric_by_seed TEXT NOT NULL DEFAULT '{}',
            run_ids TEXT NOT NULL DEFAULT '[]',
            mean REAL,
            sd REAL,
            n INTEGER NOT NULL DEFAULT 0,
            p_value REAL,
            relative_improvement REAL,
            verdict TEXT NOT NULL DEFAULT '',
            error TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX loop_experiments_loop ON loop_experiments(loop_id, ordinal);
        CREATE TABLE loop_notes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            loop_id INTEGER NOT NULL REFERENCES loops(id) ON DELETE CASCADE,
            kind TEXT NOT NULL, name TEXT NOT NULL DEFAULT '', value TEXT, text TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        """,
    ),
    (
        6,
        "a paper with research on it is archived on removal, never deleted with its research",
        """
        ALTER TABLE papers ADD COLUMN removed_at TEXT;
        CREATE TRIGGER papers_keep_research BEFORE DELETE ON papers
        WHEN EXISTS (SELECT 1 FROM problems WHERE paper_id = OLD.id)
        BEGIN
            SELECT RAISE(ABORT, 'research cites this paper: archive it (removed_at), do not delete it');
        END;
        """,
    ),
]
