"""The server's settings: where it keeps its state, the grading limits, and the course's
deadlines and late policy, read from a TOML file the organizer writes:

    # serve.toml
    url = "https://grader.example.org"      # the address members open (for printed links)

    [deadlines]                              # per assignment, a time with its zone
    optimizers = 2026-12-06T23:59:00Z

    [late]
    penalty_per_day = 0.1    # the share of the score lost per day (or part of one) late
    last_day = 3             # days after the deadline; a later upload counts 0

Two scores, named so everywhere: the *checks score* is what the checks gave; the *counted
score* is the checks score times max(0, 1 - penalty_per_day * days late, begun days
counted), 0 after ``last_day``. Of a member's attempts at an assignment, the one that
*counts* has the highest counted score (the later one on a tie): the home page, the
organizer's grid and class summary, the CSV and the gradebook all take that one (the
gradebook with its checks score, as nbgrader's own grades are).

The file is read when the server starts: restart it after editing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from datetime import time as dtime
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from ..course import GRADEBOOK, ROOT
from ..gradebook import sqlite_url
from ..sandbox.process import Limits
from ..suites import SUITES

MAX_UPLOAD_BYTES = 8 * 2**20  # the largest solution notebook, with its outputs, is 1 MiB
SUBMIT_INTERVAL = 5.0  # seconds between two uploads of one member for one assignment
MEMBER_QUOTA_BYTES = 256 * 2**20  # every upload is kept: 32 of the largest, hundreds usual
MIN_FREE_BYTES = 2**30  # uploads are refused while the disk has less free space than this
HEADER_SECONDS = 10.0  # a request's headers must be in this long after the connection opens
DEFAULT_DATA = ROOT / "server"
DEFAULT_CONFIG = ROOT / "serve.toml"


class ConfigError(ValueError):
    """A setting in the config file that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class LatePolicy:
    penalty_per_day: float = 0.0
    last_day: float = math.inf

    def factor(self, days_late: float) -> float:
        """What share of the score counts for an upload ``days_late`` after the deadline."""
        if days_late <= 0:
            return 1.0
        if days_late > self.last_day:
            return 0.0
        return max(0.0, 1.0 - self.penalty_per_day * math.ceil(days_late))

    def describe(self) -> str:
        """The policy in a sentence for the members ('' when late uploads count in full)."""
        rules = []
        if self.penalty_per_day:
            rules.append(f"{self.penalty_per_day:.0%} of the score is lost per day late")
        if self.last_day != math.inf:
            rules.append(f"an upload more than {self.last_day:g} days late counts 0")
        return ("Late uploads: " + "; ".join(rules) + ".") if rules else ""


@dataclass(frozen=True)
class ServerConfig:
    data: Path = DEFAULT_DATA
    db_url: str = sqlite_url(GRADEBOOK)
    url: str = "http://127.0.0.1:8000"
    deadlines: dict[str, datetime] = field(default_factory=dict)
    late: LatePolicy = LatePolicy()
    limits: Limits = Limits()
    isolation: str | None = None
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    submit_interval: float = SUBMIT_INTERVAL
    member_quota_bytes: int = MEMBER_QUOTA_BYTES
    min_free_bytes: int = MIN_FREE_BYTES

    @property
    def store_path(self) -> Path:
        return self.data / "server.db"

    @property
    def uploads(self) -> Path:
        return self.data / "uploads"

    @property
    def results(self) -> Path:
        return self.data / "results"

    def days_late(self, assignment: str, submitted: float) -> float:
        deadline = self.deadlines.get(assignment)
        if deadline is None:
            return 0.0
        return (submitted - deadline.timestamp()) / 86400

    def counted(self, assignment: str, submitted: float, score: float) -> float:
        return score * self.late.factor(self.days_late(assignment, submitted))

    def late_note(self, assignment: str, submitted: float, score: float,
                  max_score: float) -> str:
        """How lateness changed a checks score, in words; '' for an upload on time."""
        days = self.days_late(assignment, submitted)
        if days <= 0:
            return ""
        factor = self.late.factor(days)
        if factor == 1:
            return f"submitted {days:.1f} days late: counts in full"
        if days > self.late.last_day:
            return (f"submitted {days:.1f} days late, more than {self.late.last_day:g}: "
                    f"counts 0 / {max_score:g}")
        return (f"submitted {days:.1f} days late: counts "
                f"{self.counted(assignment, submitted, score):g} / {max_score:g} "
                f"(-{1 - factor:.0%})")

    def counting(self, attempts, score=lambda attempt: attempt.score):
        """Of graded ``attempts`` (store.Attempt) of one member and assignment, the one that
        counts: the highest counted score, the later on a tie; None if there is none.
        ``score`` gives an attempt's checks score (a regrade's new one, say)."""
        return max(attempts, default=None, key=lambda a: (
            self.counted(a.assignment, a.submitted, score(a)), a.id))


URL_FILE = "url"  # in the data folder: the address the server last served at


def record_url(data: Path, url: str) -> None:
    """Keep the address the server serves at, for ``members add`` to print its links with."""
    (data / URL_FILE).write_text(url + "\n", encoding="utf-8")


def recorded_url(data: Path) -> str | None:
    try:
        return (data / URL_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def read_config_file(path: Path) -> dict:
    """The settings of ``path`` as keyword arguments of ServerConfig; {} if there is none."""
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not TOML: {exc}") from None
    settings: dict = {}
    if "url" in data:
        settings["url"] = str(data["url"]).rstrip("/")
    deadlines = {}
    for assignment, when in data.get("deadlines", {}).items():
        if assignment not in SUITES:
            raise ConfigError(f"{path}: [deadlines] names '{assignment}', which is not an "
                              f"assignment ({', '.join(sorted(SUITES))})")
        if not isinstance(when, datetime) or when.tzinfo is None:
            written = when.isoformat() if isinstance(when, (date, dtime)) else repr(when)
            raise ConfigError(f"{path}: [deadlines] {assignment} = {written}: write a time "
                              f"with its zone, e.g. 2026-12-06T23:59:00Z")
        deadlines[assignment] = when.astimezone(timezone.utc)
    settings["deadlines"] = deadlines
    late = data.get("late", {})
    try:
        settings["late"] = LatePolicy(float(late.get("penalty_per_day", 0.0)),
                                      float(late.get("last_day", math.inf)))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: [late]: {exc}") from None
    if not 0 <= settings["late"].penalty_per_day <= 1:
        raise ConfigError(f"{path}: [late] penalty_per_day must be between 0 and 1")
    return settings
