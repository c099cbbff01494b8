"""Accept one uploaded notebook: counted while it streams in, written to disk under a name
the server chooses, checked to be a notebook with answers of its assignment, then queued.

    uploads/<random>/<member>/<assignment>/<assignment's notebook name>

The client's file name is never used for anything, so no upload can name a path. The
layout is nbgrader's ``<student>/<assignment>/<notebook>``, which the batch grader reads
(``batch.Job``) below the random folder. An upload is written below ``uploads/.partial/``
and moved into place once checked, so a server killed mid-upload leaves nothing but that
folder, emptied at the next start.

Before a byte of the body is read: the member has no other upload in flight (``Gate``),
their uploads so far leave room under their quota, the disk keeps its free margin, and the
rate limit allows it (checked again, atomically, when the row is queued). At most
``PARSES`` notebooks are parsed at a time; the others wait for a turn.
"""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import uuid
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import AsyncIterator

from starlette.concurrency import run_in_threadpool

from ..kit.checks import answer_cells, cell_source
from ..submission import Refused, parse_notebook
from ..suites import SUITES
from .config import ServerConfig
from .store import Member, Store


class UploadRefused(Exception):
    """An upload that is not accepted: ``status`` is the HTTP status, the message says why
    and what to do."""

    def __init__(self, status: int, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


PARTIAL = ".partial"
PARSES = 2  # notebooks parsed at once: a large one takes hundreds of MB while it is parsed
PARSE_WAIT = 60.0  # seconds an upload waits for its turn to be parsed, then is refused


class Gate:
    """One web process's uploads in flight: one per member at a time (another is refused
    at once, before its body is read), and at most ``parses`` being parsed."""

    def __init__(self, parses: int = PARSES, wait: float = PARSE_WAIT):
        self._members: set[int] = set()
        self._parses = asyncio.Semaphore(parses)
        self._wait = wait

    @contextmanager
    def hold(self, member: Member):
        if member.id in self._members:
            raise UploadRefused(429, "another upload of yours is still being received or "
                                     "checked (your page lists it once it is queued); send "
                                     "this one again after it", retry_after=1)
        self._members.add(member.id)
        try:
            yield
        finally:
            self._members.discard(member.id)

    @asynccontextmanager
    async def parsing(self):
        try:
            await asyncio.wait_for(self._parses.acquire(), self._wait)
        except asyncio.TimeoutError:
            raise UploadRefused(503, "the server is busy checking other uploads; submit again "
                                     "in a minute", retry_after=60) from None
        try:
            yield
        finally:
            self._parses.release()


def too_large(limit: int) -> UploadRefused:
    return UploadRefused(413, f"the upload is over the {limit / 2**20:g} MiB limit; clear the "
                              f"notebook's outputs (Kernel > Restart & Clear Output), save, "
                              f"and submit again")


def check_assignment(assignment: str) -> None:
    if assignment not in SUITES:
        raise UploadRefused(404, f"there is no assignment '{assignment[:80]}'; the assignments "
                                 f"are {', '.join(sorted(SUITES))}")


def _too_soon(config: ServerConfig, waited: float) -> UploadRefused:
    wait = max(config.submit_interval - waited, 0.1)
    return UploadRefused(429, f"you submitted this assignment {waited:.1f} s ago; submit again "
                              f"in {wait:.1f} s", retry_after=wait)


def check_rate(store: Store, config: ServerConfig, member: Member, assignment: str) -> None:
    waited = store.seconds_since_last(member, assignment)
    if waited is not None and waited < config.submit_interval:
        raise _too_soon(config, waited)


def _over_quota(config: ServerConfig) -> UploadRefused:
    return UploadRefused(413, f"your uploads so far fill your {config.member_quota_bytes / 2**20:g}"
                              f" MiB of storage on this server, and this one would not fit; "
                              f"ask the organizer to raise your quota")


def room_left(store: Store, config: ServerConfig, member: Member) -> int:
    """Bytes ``member`` may still upload; UploadRefused when none, or when the server's disk
    is down to its free margin."""
    if shutil.disk_usage(config.data).free < config.min_free_bytes:
        raise UploadRefused(507, "the server's disk is nearly full, so no upload is taken now; "
                                 "tell the organizer (your earlier attempts are kept)")
    left = config.member_quota_bytes - store.stored_bytes(member)
    if left <= 0:
        raise _over_quota(config)
    return left


async def write_capped(chunks: AsyncIterator[bytes], path: Path, limit: int,
                       refusal: UploadRefused | None = None) -> int:
    """Write the stream to ``path``; ``refusal`` (by default UploadRefused 413) as soon as
    it passes ``limit``."""
    size = 0
    with open(path, "xb") as out:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise refusal or too_large(limit)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size


def answers_in(nb: dict, assignment: str) -> list[str]:
    """The functions of ``assignment`` that ``nb`` has an answer cell for (by grade_id) or
    a code cell defining, as the grader finds them (submission.read_submission)."""
    names = [spec.name for spec in SUITES[assignment].functions]
    by_id = {grade_id for grade_id, _ in answer_cells(nb)}
    code = "\n".join(cell_source(c) for c in nb["cells"]
                     if isinstance(c, dict) and c.get("cell_type") == "code")
    return [name for name in names if name in by_id or
            re.search(rf"^def\s+{re.escape(name)}\s*\(", code, re.MULTILINE)]


def check_answers(nb: dict, assignment: str) -> None:
    """Refuse a notebook that has none of ``assignment``'s answers: it was sent under the
    wrong assignment (or is not a notebook of this course), and would only score 0."""
    if answers_in(nb, assignment):
        return
    found = {other: len(answers_in(nb, other)) for other in SUITES if other != assignment}
    likely = max(found, key=found.get, default=None)
    hint = (f"it looks like the {likely} notebook; submit it as {likely}" if likely and
            found[likely] else f"upload {SUITES[assignment].notebook} from the {assignment} folder")
    raise UploadRefused(400, f"this notebook has none of {assignment}'s answer cells "
                             f"({', '.join(s.name for s in SUITES[assignment].functions)}); "
                             f"{hint}")


def _check_notebook(path: Path, assignment: str) -> None:
    try:
        nb = parse_notebook(path.read_bytes())
    except Refused as exc:
        raise UploadRefused(400, f"the file {exc}") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise UploadRefused(400, "the file is JSON but not a notebook (it has no list of "
                                 "cells); upload the .ipynb file Jupyter saved")
    check_answers(nb, assignment)


async def accept(store: Store, config: ServerConfig, gate: Gate, member: Member,
                 assignment: str, chunks: AsyncIterator[bytes]) -> int:
    """Store, check and queue an upload; the job's id, or UploadRefused saying why not.
    The caller holds ``gate.hold(member)`` from before the body is read."""
    check_assignment(assignment)
    check_rate(store, config, member, assignment)
    left = room_left(store, config, member)
    name = uuid.uuid4().hex
    partial = config.uploads / PARTIAL / name
    inside = Path(member.name, assignment, SUITES[assignment].notebook)
    (partial / inside).parent.mkdir(parents=True)
    folder = partial
    try:
        limit = min(config.max_upload_bytes, left)
        size = await write_capped(chunks, partial / inside, limit, None if
                                  limit == config.max_upload_bytes else _over_quota(config))
        if size == 0:
            raise UploadRefused(400, "the upload is empty; choose the notebook file")
        async with gate.parsing():
            # a large notebook is parsed in a child process: off the event loop either way
            await run_in_threadpool(_check_notebook, partial / inside, assignment)
        # moved before its row is written, so that no row points into .partial (emptied
        # at the next start); a kill between the two leaves an unqueued folder at worst
        os.rename(partial, config.uploads / name)
        folder = config.uploads / name
        # the write lock may be held by a worker for a moment: wait off the event loop
        job = await run_in_threadpool(store.enqueue, member, assignment, folder / inside, size,
                                      config.submit_interval)
        if job is None:
            raise _too_soon(config, store.seconds_since_last(member, assignment) or 0.0)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return job


def clear_partial(config: ServerConfig) -> None:
    """Uploads a killed server was receiving: never queued, so nothing refers to them."""
    shutil.rmtree(config.uploads / PARTIAL, ignore_errors=True)


async def file_chunks(upload) -> AsyncIterator[bytes]:
    """The chunks of a multipart form's file (already capped by the app's body limit)."""
    while chunk := await upload.read(2**20):
        yield chunk
