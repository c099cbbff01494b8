"""Hidden checks' details held back on the feedback pages until a date the organizer sets,
as Gradescope's "after_published" holds back hidden tests.

    python -m autograder grade SUBMITTED --out OUT --hidden-details-from 2026-12-15
    python -m autograder feedback OUT     # after that date: the pages with every detail

The date is kept in OUT/feedback-settings.json, so that every later `grade` or `feedback`
into OUT draws pages the same way. Until then a page shows the visible checks as usual, and
of each hidden group only that it is held back: no verdict, no points, no failure message,
no picture of a hidden case, no diagnosis drawn from hidden cases alone, nothing the code
printed (it may print a hidden case's arguments); the score shown is the visible checks'.
results.json, the gradebook and the export keep every result.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from .results import dump_json, write_atomically

SETTINGS = "feedback-settings.json"
KEY = "hidden_details_from"


def parse_date(text: str) -> datetime:
    """An ISO date or date and time (UTC unless it says otherwise); ValueError otherwise."""
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def read_setting(out: Path) -> datetime | None:
    """The date recorded for OUT, or None: every detail shown."""
    try:
        return parse_date(json.loads((Path(out) / SETTINGS).read_text(encoding="utf-8"))[KEY])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_setting(out: Path, when: datetime) -> None:
    write_atomically(Path(out) / SETTINGS, dump_json({KEY: when.isoformat()}))


def held_back(data: dict, until: datetime | None, now: datetime | None = None) -> dict:
    """results.json's data as a page may show it before ``until``; as it is from then on
    (or when there is no date). Each held group gets "held": the date in words."""
    now = now or datetime.now(timezone.utc)
    extra = data.get("extra_data") if isinstance(data, dict) else None
    if until is None or now >= until or not isinstance(extra, dict):
        return data
    when = until.strftime("%Y-%m-%d %H:%M UTC")
    data = json.loads(json.dumps(data))
    extra = data["extra_data"]
    checks = extra.get("checks") if isinstance(extra.get("checks"), dict) else {}
    shown_pictures = {}
    for test in data.get("tests", []):
        groups = checks.get(test.get("name"), [])
        visible = [g for g in groups if not g.get("hidden")]
        for group in groups:
            if group.get("hidden"):
                group.update(held=when, failed=[], passed=[], score=0)
        test["score"] = sum(g.get("score", 0) for g in visible)
        test["max_score"] = sum(g.get("points", 0) for g in visible)
        if groups:  # a function never graded keeps the output that says why
            test["output"] = ""
        visible_failures = " ".join(f for g in visible for f in g.get("failed", []))
        picture = extra.get("pictures", {}).get(test.get("name"))
        if isinstance(picture, dict) and str(picture.get("title")) in visible_failures:
            shown_pictures[test["name"]] = picture
        if not visible_failures:  # what a diagnosis says could only come from hidden cases
            extra.get("diagnosis", {}).pop(test.get("name"), None)
    extra["pictures"] = shown_pictures
    data["score"] = sum(t["score"] for t in data.get("tests", []))
    extra.setdefault("problems", []).append(
        f"The hidden checks' results are shown from {when}; the score here is the visible "
        f"checks' alone.")
    if extra.get("printed"):  # printing a hidden case's arguments would show them
        extra["printed"] = None
        extra["problems"].append(f"What your code printed is shown from {when} too: it "
                                 f"holds what it printed during the hidden checks.")
    return data
