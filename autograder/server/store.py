"""The server's own state in one SQLite file: members, sessions and the queue of uploads.

    members(name, token_hash, organizer)        a personal link's token, stored only hashed
    sessions(hash, member, csrf, expires)       a browser's session cookie, stored only hashed
    jobs(id, member, assignment, stored, state) one row per accepted upload, never deleted

A job's states: ``queued`` -> ``grading`` -> ``done`` | ``failed``, or ``queued`` ->
``superseded`` when the same member uploads the same assignment again before it was graded
(its notebook is kept; the newer upload is graded instead). A row is written only after its
notebook is on disk (``stored``, a path the server chose), so every row can be graded; a
row left in ``grading`` by a server that was killed goes back to ``queued`` when the server
starts again (``requeue_interrupted``). Each process and thread opens its own connection;
WAL lets the pages read while a worker writes.

Workers claim jobs fairly, round robin across members: an upload not yet graded before a
regrade's, then the member with the fewest jobs being graded, then the member whose last
grading started longest ago, then the oldest job. One member's jobs of one assignment are
graded one at a time, so a member who uploads many slow notebooks holds at most one worker
per assignment, and waits behind everyone else for the next.
"""
from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS members (
    id INTEGER PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    token_hash TEXT UNIQUE NOT NULL,
    organizer INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    hash TEXT PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id INTEGER NOT NULL REFERENCES members(id),
    assignment TEXT NOT NULL,
    stored TEXT NOT NULL,
    size INTEGER NOT NULL,
    submitted REAL NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'grading', 'done', 'failed',
                                         'superseded')),
    worker INTEGER,
    tries INTEGER NOT NULL DEFAULT 0,
    started REAL,
    finished REAL,
    score REAL,
    max_score REAL,
    error TEXT,
    budget_used REAL);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, id);
CREATE INDEX IF NOT EXISTS jobs_by_member ON jobs(member_id, assignment, id);
"""
MAX_TRIES = 3  # a submission whose grading process died this often is failed, not retried
SESSION_SECONDS = 30 * 24 * 3600
MAX_SESSIONS = 10  # per member (browsers, devices); a new one ends the oldest past this


def digest(secret: str) -> str:
    """What is stored of a token or a session cookie: its SHA-256, never the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    organizer: bool


@dataclass(frozen=True)
class Attempt:
    id: int
    member: str
    assignment: str
    stored: str
    size: int
    submitted: float
    state: str
    tries: int
    finished: float | None
    score: float | None
    max_score: float | None
    error: str | None
    number: int  # its place among its member's attempts of its assignment, from 1

    @property
    def pending(self) -> bool:
        return self.state in ("queued", "grading")

    @property
    def graded(self) -> bool:
        """It has a score: graded, or queued again for a regrade that keeps the last one
        until the new one is in."""
        return self.score is not None and self.state != "failed"


# Members see their attempts numbered per assignment; the row id (in URLs) is the queue's.
_ATTEMPT = ("SELECT jobs.id, members.name, assignment, stored, size, submitted, state, tries, "
            "finished, score, max_score, error, (SELECT COUNT(*) FROM jobs AS earlier WHERE "
            "earlier.member_id = jobs.member_id AND earlier.assignment = jobs.assignment AND "
            "earlier.id <= jobs.id) FROM jobs JOIN members ON members.id = member_id")


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        db = self._db()
        with _transaction(db):
            _upgrade(db)
            for statement in SCHEMA.split(";"):
                db.execute(statement)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                 check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=FULL")  # an accepted upload survives a power cut
            self._local.db = db
        return db

    def _write(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        return self._db().execute(sql, params)

    # members and sessions

    def add_member(self, name: str, token: str, organizer: bool) -> Member:
        cursor = self._write("INSERT INTO members(name, token_hash, organizer, created) "
                             "VALUES (?, ?, ?, ?)", (name, digest(token), int(organizer), time.time()))
        return Member(cursor.lastrowid, name, organizer)

    def replace_token(self, name: str, token: str) -> bool:
        """A new personal link for ``name``; the old link and its sessions stop working."""
        db = self._db()
        with _transaction(db):
            changed = db.execute("UPDATE members SET token_hash = ? WHERE name = ?",
                                 (digest(token), name)).rowcount
            db.execute("DELETE FROM sessions WHERE member_id IN "
                       "(SELECT id FROM members WHERE name = ?)", (name,))
        return bool(changed)

    def members(self) -> list[Member]:
        rows = self._db().execute("SELECT id, name, organizer FROM members ORDER BY name")
        return [Member(i, n, bool(o)) for i, n, o in rows]

    def member(self, name: str) -> Member | None:
        row = self._db().execute("SELECT id, name, organizer FROM members WHERE name = ?",
                                 (name,)).fetchone()
        return Member(row[0], row[1], bool(row[2])) if row else None

    def member_by_token(self, token: str) -> Member | None:
        row = self._db().execute("SELECT id, name, organizer FROM members WHERE token_hash = ?",
                                 (digest(token),)).fetchone()
        return Member(row[0], row[1], bool(row[2])) if row else None

    def open_session(self, member: Member, cookie: str, csrf: str) -> None:
        """A new session of ``member``; expired sessions (anyone's) are deleted, and of
        ``member``'s only the newest MAX_SESSIONS are kept, so signing in again and again
        cannot grow the table."""
        db = self._db()
        now = time.time()
        with _transaction(db):
            db.execute("DELETE FROM sessions WHERE expires <= ?", (now,))
            db.execute("INSERT INTO sessions(hash, member_id, csrf, expires) VALUES (?, ?, ?, ?)",
                       (digest(cookie), member.id, csrf, now + SESSION_SECONDS))
            db.execute("DELETE FROM sessions WHERE member_id = ? AND hash NOT IN (SELECT hash "
                       "FROM sessions WHERE member_id = ? ORDER BY expires DESC LIMIT ?)",
                       (member.id, member.id, MAX_SESSIONS))

    def session(self, cookie: str) -> tuple[Member, str] | None:
        """The member and CSRF token of a session cookie that has not expired."""
        row = self._db().execute(
            "SELECT members.id, name, organizer, csrf FROM sessions JOIN members "
            "ON members.id = member_id WHERE hash = ? AND expires > ?",
            (digest(cookie), time.time())).fetchone()
        return (Member(row[0], row[1], bool(row[2])), row[3]) if row else None

    def close_session(self, cookie: str) -> None:
        self._write("DELETE FROM sessions WHERE hash = ?", (digest(cookie),))

    # the queue

    def enqueue(self, member: Member, assignment: str, stored: Path, size: int,
                interval: float) -> int | None:
        """The new job's id; None when ``member`` submitted ``assignment`` less than
        ``interval`` seconds ago (checked and written in one transaction, so that a burst
        of uploads racing each other gets one row). An upload of theirs still waiting for
        its first grading is superseded by this one: one job per member and assignment
        waits at a time, however often they upload."""
        db = self._db()
        with _transaction(db):
            last = db.execute("SELECT MAX(submitted) FROM jobs WHERE member_id = ? AND "
                              "assignment = ?", (member.id, assignment)).fetchone()[0]
            now = time.time()
            if last is not None and now - last < interval:
                return None
            job = db.execute("INSERT INTO jobs(member_id, assignment, stored, size, submitted, "
                             "state) VALUES (?, ?, ?, ?, ?, 'queued')",
                             (member.id, assignment, str(stored), size, now)).lastrowid
            number = db.execute("SELECT COUNT(*) FROM jobs WHERE member_id = ? AND "
                                "assignment = ?", (member.id, assignment)).fetchone()[0]
            db.execute("UPDATE jobs SET state = 'superseded', finished = ?, error = ? WHERE "
                       "member_id = ? AND assignment = ? AND state = 'queued' AND "
                       "finished IS NULL AND id != ?",
                       (now, f"your newer upload (attempt {number}) replaced it before it was "
                             f"graded; that one is graded instead", member.id, assignment, job))
            return job

    def stored_bytes(self, member: Member) -> int:
        """What ``member``'s uploads take on disk, every attempt counted."""
        return self._db().execute("SELECT COALESCE(SUM(size), 0) FROM jobs WHERE member_id = ?",
                                  (member.id,)).fetchone()[0]

    def seconds_since_last(self, member: Member, assignment: str) -> float | None:
        last = self._db().execute("SELECT MAX(submitted) FROM jobs WHERE member_id = ? AND "
                                  "assignment = ?", (member.id, assignment)).fetchone()[0]
        return None if last is None else time.time() - last

    def claim(self, worker: int) -> Attempt | None:
        """The next job, fairly (see the module's docstring), now ``grading`` by ``worker``
        (a process id)."""
        db = self._db()
        with _transaction(db):
            row = db.execute(
                "SELECT id FROM jobs AS job WHERE state = 'queued' AND NOT EXISTS (SELECT 1 "
                "FROM jobs AS busy WHERE busy.state = 'grading' AND busy.member_id = "
                "job.member_id AND busy.assignment = job.assignment) ORDER BY "
                "finished IS NOT NULL, (SELECT COUNT(*) FROM jobs AS busy WHERE busy.state = "
                "'grading' AND busy.member_id = job.member_id), (SELECT COALESCE(MAX(started), "
                "0) FROM jobs AS served WHERE served.member_id = job.member_id), id LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE jobs SET state = 'grading', worker = ?, started = ? WHERE id = ?",
                       (worker, time.time(), row[0]))
        return self.attempt(row[0])

    def finish(self, job_id: int, score: float, max_score: float,
               budget_used: float | None = None) -> None:
        """``budget_used``: the share of its time budget the grading took."""
        self._write("UPDATE jobs SET state = 'done', finished = ?, score = ?, max_score = ?, "
                    "error = NULL, worker = NULL, budget_used = ? WHERE id = ?",
                    (time.time(), score, max_score, budget_used, job_id))

    def recent_budget_used(self, member: str, count: int) -> list[float]:
        """The share of the time budget that ``member``'s last ``count`` graded attempts
        took, newest first."""
        rows = self._db().execute(
            "SELECT budget_used FROM jobs JOIN members ON members.id = member_id WHERE "
            "name = ? AND state = 'done' AND budget_used IS NOT NULL ORDER BY finished DESC "
            "LIMIT ?",
            (member, count))
        return [row[0] for row in rows]

    def fail(self, job_id: int, error: str) -> None:
        self._write("UPDATE jobs SET state = 'failed', finished = ?, error = ?, worker = NULL, "
                    "score = NULL, max_score = NULL WHERE id = ?", (time.time(), error, job_id))

    def requeue_interrupted(self) -> int:
        """Jobs left in ``grading`` by a server that stopped or was killed go back to the
        queue; the server's end is no fault of the submission, so it counts no try."""
        return self._write("UPDATE jobs SET state = 'queued', worker = NULL "
                           "WHERE state = 'grading'").rowcount

    def worker_died(self, worker: int) -> None:
        """The job the grading process ``worker`` held when it died, the server still up:
        one try counted; queued again, or failed with the reason at MAX_TRIES."""
        db = self._db()
        with _transaction(db):
            db.execute("UPDATE jobs SET tries = tries + 1 WHERE state = 'grading' AND worker = ?",
                       (worker,))
            db.execute(f"UPDATE jobs SET state = 'failed', finished = ?, worker = NULL, error = "
                       f"'grading this submission stopped {MAX_TRIES} times (the grading process "
                       f"ended); tell the organizer' WHERE state = 'grading' AND worker = ? AND "
                       f"tries >= {MAX_TRIES}", (time.time(), worker))
            db.execute("UPDATE jobs SET state = 'queued', worker = NULL WHERE state = 'grading' "
                       "AND worker = ?", (worker,))

    def regrade(self, assignment: str | None = None) -> int:
        """Every finished job (of ``assignment``) back in the queue; returns how many. Its
        score stays until the new one replaces it."""
        where = "state IN ('done', 'failed')" + ("" if assignment is None else " AND assignment = ?")
        return self._write(f"UPDATE jobs SET state = 'queued', tries = 0 WHERE {where}",
                           () if assignment is None else (assignment,)).rowcount

    def graded_of(self, attempt: Attempt) -> list[Attempt]:
        """The graded attempts of ``attempt``'s member and assignment (see Attempt.graded),
        oldest first."""
        rows = self._db().execute(
            f"{_ATTEMPT} WHERE member_id = (SELECT member_id FROM jobs WHERE id = ?) AND "
            f"assignment = ? AND state != 'failed' AND score IS NOT NULL ORDER BY jobs.id",
            (attempt.id, attempt.assignment))
        return [Attempt(*row) for row in rows]

    def attempt(self, job_id: int) -> Attempt | None:
        row = self._db().execute(f"{_ATTEMPT} WHERE jobs.id = ?", (job_id,)).fetchone()
        return Attempt(*row) if row else None

    def attempts(self, member: Member | None = None) -> list[Attempt]:
        """Every attempt (of ``member``), oldest first."""
        if member is None:
            rows = self._db().execute(f"{_ATTEMPT} ORDER BY jobs.id")
        else:
            rows = self._db().execute(f"{_ATTEMPT} WHERE member_id = ? ORDER BY jobs.id",
                                      (member.id,))
        return [Attempt(*row) for row in rows]

    def counts(self) -> dict[str, int]:
        return dict(self._db().execute("SELECT state, COUNT(*) FROM jobs GROUP BY state"))


def _upgrade(db: sqlite3.Connection) -> None:
    """A jobs table written before 'superseded' and ``budget_used`` existed is rebuilt with them
    (SQLite cannot change a CHECK in place); the rows are kept."""
    row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'jobs'") \
        .fetchone()
    if row is None or "superseded" in row[0]:
        return
    columns = ", ".join(c[1] for c in db.execute("PRAGMA table_info(jobs)"))
    db.execute("DROP INDEX IF EXISTS jobs_by_state")
    db.execute("DROP INDEX IF EXISTS jobs_by_member")
    db.execute("ALTER TABLE jobs RENAME TO jobs_before")
    db.execute(SCHEMA.split(";")[2])
    db.execute(f"INSERT INTO jobs({columns}) SELECT {columns} FROM jobs_before")
    db.execute("DROP TABLE jobs_before")


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on an error): the write lock is taken at the
    start, so a read-then-write cannot interleave with another process's."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, *_) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")
