"""What the pages show, as data: a member's assignments with the attempt that counts and the
last one, the organizer's grid of members against assignments, the class summary and the
CSV, all from the attempt that counts (see config.py). No HTML
here (pages.py draws it), no HTTP (app.py serves it).
"""
from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from ..class_summary import ClassSummary, summarize
from ..export import as_text_cell
from ..feedback import read_results
from ..suites import SUITES
from .config import ServerConfig
from .store import Attempt, Member, Store
from .workers import results_path


def when(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Scored:
    """An attempt with what the late policy made of its checks score."""
    attempt: Attempt
    counted: float | None  # None until it is graded
    late: str  # "" on time; else e.g. "submitted 1.3 days late: counts 8 / 50 (-20%)"


def scored(config: ServerConfig, attempt: Attempt) -> Scored:
    if not attempt.graded:
        return Scored(attempt, None, "")
    return Scored(attempt, config.counted(attempt.assignment, attempt.submitted, attempt.score),
                  config.late_note(attempt.assignment, attempt.submitted, attempt.score,
                                   attempt.max_score))


@dataclass(frozen=True)
class Standing:
    """One member's standing in one assignment."""
    assignment: str
    max_score: float
    deadline: str
    past_due: bool
    attempts: list[Scored]
    counting: Scored | None  # the attempt that counts (best counted score), None if none graded

    @property
    def counted(self) -> float | None:
        return None if self.counting is None else self.counting.counted

    @property
    def last(self) -> Scored | None:
        return self.attempts[-1] if self.attempts else None


def standings(config: ServerConfig, attempts: list[Attempt]) -> list[Standing]:
    """Per assignment, in name order, the standing of the member whose ``attempts`` these are."""
    rows = []
    now = time.time()
    for assignment, suite in sorted(SUITES.items()):
        mine = [scored(config, a) for a in attempts if a.assignment == assignment]
        best = config.counting([s.attempt for s in mine if s.attempt.graded])
        deadline = config.deadlines.get(assignment)
        rows.append(Standing(
            assignment, suite.max_score, when(deadline.timestamp()) if deadline else "none",
            deadline is not None and deadline.timestamp() < now, mine,
            next((s for s in mine if s.attempt is best), None)))
    return rows


def member_standings(store: Store, config: ServerConfig, member: Member) -> list[Standing]:
    return standings(config, store.attempts(member))


def grid(store: Store, config: ServerConfig) -> list[tuple[Member, list[Standing]]]:
    """Every member (organizers too, if they submitted) against every assignment."""
    attempts: dict[str, list[Attempt]] = {}
    for attempt in store.attempts():
        attempts.setdefault(attempt.member, []).append(attempt)
    return [(member, standings(config, attempts.get(member.name, [])))
            for member in store.members() if not member.organizer or member.name in attempts]


def _results(config: ServerConfig, attempt: Attempt) -> dict | None:
    try:
        return read_results(results_path(config, attempt.id))
    except (OSError, ValueError):
        return None  # counted as missing; its own page says why


def counting_results(store: Store, config: ServerConfig):
    """The results.json data of each member's attempt that counts, per assignment."""
    for _, rows in grid(store, config):
        for row in rows:
            if row.counting is not None:
                data = _results(config, row.counting.attempt)
                if data is not None:
                    yield data


def class_summary(store: Store, config: ServerConfig) -> ClassSummary:
    return summarize(counting_results(store, config))


@dataclass(frozen=True)
class CommonMistake:
    assignment: str
    function: str
    mistake: str
    members: int  # who made it, in their attempt that counts
    of: int       # members graded in that assignment


def common_mistakes(summary: ClassSummary, limit: int = 10) -> list[CommonMistake]:
    """The diagnosed mistakes made by the most members, across every assignment."""
    found = [CommonMistake(f.assignment, f.function, name, count, f.learners)
             for f in summary.functions for name, count in f.mistakes]
    return sorted(found, key=lambda m: (-m.members, m.assignment, m.function, m.mistake))[:limit]


FUNCTIONS = [spec.name for suite in SUITES.values() for spec in suite.functions]
CSV_COLUMNS = ["member", "assignment", "status", "attempts", "last_submitted",
               "counting_attempt", "checks_score", "days_late", "counted_score", "max_score",
               *FUNCTIONS]


def grades_csv(store: Store, config: ServerConfig) -> str:
    """One row per member and assignment they submitted, from the attempt that counts: its
    status, checks score, counted score, and per function its checks score (the columns of
    ``python -m autograder export``, with the server's own beside them)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for member, rows in grid(store, config):
        for row in rows:
            if not row.attempts:
                continue
            best = row.counting
            data = _results(config, best.attempt) if best else None
            # with no graded attempt, the last one's state: queued, grading or failed
            status = (data or {}).get("extra_data", {}).get("status", "") if best else \
                row.last.attempt.state
            per_function = {t["name"]: t["score"] for t in (data or {}).get("tests", [])}
            writer.writerow([
                as_text_cell(member.name), row.assignment, status, len(row.attempts),
                when(row.last.attempt.submitted),
                "" if best is None else best.attempt.number,
                "" if best is None else f"{best.attempt.score:g}",
                "" if best is None else
                f"{max(0.0, config.days_late(row.assignment, best.attempt.submitted)):.2f}",
                "" if best is None else f"{best.counted:g}", f"{row.max_score:g}",
                *[f"{per_function[name]:g}" if name in per_function else ""
                  for name in FUNCTIONS]])
    return out.getvalue()


def attempt_json(config: ServerConfig, attempt: Attempt) -> dict:
    """An attempt as ``submit.py`` reads it: its number, state, checks and counted score,
    and per function the output."""
    late = scored(config, attempt)
    data = {"id": attempt.id, "number": attempt.number, "assignment": attempt.assignment,
            "state": attempt.state, "submitted": when(attempt.submitted),
            "score": attempt.score, "counted_score": late.counted, "late": late.late,
            "max_score": attempt.max_score, "error": attempt.error,
            "feedback": f"{config.url}/attempts/{attempt.id}"}
    if attempt.state == "done":
        try:
            results = read_results(results_path(config, attempt.id))
            data["tests"] = [{k: t.get(k) for k in ("name", "score", "max_score", "output")}
                             for t in results["tests"]]
            data["problems"] = results["extra_data"].get("problems", [])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            data["problems"] = [f"the results could not be read: {exc}"]
    return data
