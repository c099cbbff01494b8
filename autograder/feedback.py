"""Feedback pages: one self-contained HTML page per learner and assignment, and an index.

Pages are drawn from results.json alone (the recorded results), so grading and the
`feedback` command make the same pages. Every text that came from a learner's code is
escaped; pictures are PNGs drawn with matplotlib's object API and embedded as data URIs,
so a page is one file that opens anywhere. Hidden cases appear only as their description
in words; no test code and no reference code is on any page.

Recorded results are read as hostile: any text is cleaned, any number may be NaN, infinite
or huge, any shape may be wrong. A page is at most MAX_PAGE_BYTES, a picture that cannot be
drawn is left out with a line saying so, and a page that cannot be made at all names the
error instead: neither a batch nor the `feedback` command stops on one learner's results.
"""
from __future__ import annotations

import base64
import io
import json
import logging
import math
import threading
from datetime import datetime
from pathlib import Path
from typing import Callable
from urllib.parse import quote

import numpy as np

from .class_summary import summarize, summary_html
from .evidence import MAX_POINTS
from .hidden_details import held_back, read_setting
from .results import (BLANK, MAX_OUTPUT_CHARS, MAX_PAGE_BYTES, MAX_RESULTS_BYTES, clean_text,
                      fit, write_atomically)
from .results import html_text as _e

PAGE = "feedback.html"
FAR = 1e12  # no coordinate is drawn farther out, so that axis limits and contours stay finite
ERROR_FLOOR_DRAWN = 1e-16  # a zero error still gets a bar on a log scale
PICTURE_PIXELS = 480  # about the width and height of a picture's axes
OVERLAP_PIXELS = 2    # two paths closer than this everywhere look like one
# results.json files larger than this were not written by this grader (it writes at most
# MAX_RESULTS_BYTES): they are not read, and their page says so.
MAX_READ_BYTES = 16 * MAX_RESULTS_BYTES
STYLE = """
body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em} h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
.score{font-weight:bold} .pass{color:#1a7f37} .fail{color:#c62828}
table{border-collapse:collapse;margin:.5em 0} td,th{padding:.25em .7em;border-bottom:1px solid #eee;text-align:left}
pre{white-space:pre-wrap;background:#f6f8fa;padding:.6em;border-radius:4px;font-size:.9em}
.diagnosis{background:#fff4e5;border-left:4px solid #f0a020;padding:.5em .8em;margin:.5em 0}
.hint{background:#eef6ff;border-left:4px solid #3d8bfd;padding:.5em .8em;margin:.5em 0}
img{max-width:100%;border:1px solid #eee}
"""


def _figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # mathtext looks for fonts a slim install lacks and warns once per font on stderr,
    # where it buries the score table; the fallback draws the labels all the same
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

    figure = Figure(figsize=(6.4, 4.2), dpi=90)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _number(value) -> float:
    """A number from results.json as a float: JSON's "NaN" and "Infinity" as such, and
    anything that is not a number as NaN."""
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan


def _numbers(values) -> np.ndarray:
    """At most MAX_POINTS numbers of a list in results.json, each read by _number."""
    values = values if isinstance(values, list) else []
    return np.array([_number(v) for v in values[:MAX_POINTS]], dtype=float)


def _points(values) -> np.ndarray:
    """At most MAX_POINTS points [x, y] of a list in results.json, as an (n, 2) array; a
    malformed point is NaN."""
    values = values if isinstance(values, list) else []
    rows = [[*_numbers(point)[:2], math.nan, math.nan][:2] for point in values[:MAX_POINTS]]
    return np.array(rows, dtype=float).reshape(-1, 2)


def _finite(points: np.ndarray) -> np.ndarray:
    """The points whose coordinates are all finite, each clipped to FAR."""
    return np.clip(points[np.isfinite(points).all(axis=1)], -FAR, FAR)


def _trouble(points: np.ndarray) -> tuple[int, str] | None:
    """The first of the learner's points that cannot be drawn as it is, and why in words."""
    for index, point in enumerate(points):
        if np.isnan(point).any():
            return index, "NaN"
        if np.isinf(point).any():
            return index, "infinite"
        if (np.abs(point) > FAR).any():
            return index, f"beyond ±{FAR:.0e}"  # drawn at the edge
    return None


def _label(text, limit: int = 200) -> str:
    """Text for a picture: cleaned, short, and with $ escaped (matplotlib reads $...$ as
    mathematics, and a stray one makes drawing fail)."""
    return clean_text(text, limit).replace("$", r"\$")


def _contour(ax, contour, low: np.ndarray, high: np.ndarray) -> None:
    """The level sets of 0.5 w'Aw + b'w behind the paths, when A and b are there and the
    values over the picture are finite."""
    if not isinstance(contour, dict):
        return
    A, b = _points(contour.get("A")), _numbers(contour.get("b"))
    if A.shape != (2, 2) or b.shape != (2,):
        return
    x, y = np.meshgrid(np.linspace(low[0], high[0], 150), np.linspace(low[1], high[1], 150))
    grid = np.stack([x, y], axis=-1)
    with np.errstate(all="ignore"):
        z = 0.5 * np.einsum("...i,ij,...j->...", grid, A, grid) + grid @ b
    if np.isfinite(z).all():
        ax.contour(x, y, z, levels=25, cmap="Greys", linewidths=0.5)


def _overlap(reference: np.ndarray, learner: np.ndarray, low, high) -> bool:
    """Whether the two paths cannot show their difference: the learner's has NaN or
    infinite points, or lies within OVERLAP_PIXELS of the reference's at every step."""
    count = min(len(reference), len(learner))
    if not np.isfinite(learner).all() or not count:
        return True
    pixel = (high - low) / PICTURE_PIXELS
    gap = np.abs(learner[:count] - reference[:count]) / pixel
    return bool(np.nanmax(gap) < OVERLAP_PIXELS) and len(learner) == len(reference)


def _plot_step_errors(ax, picture: dict, why: str) -> str:
    """The relative error of the failed quantity at each step, on a log scale, with the
    tolerance; a step where the learner's value is NaN or infinite is a cross at the top."""
    errors, tol = _numbers(picture.get("errors")), _number(picture.get("tol"))
    quantity = _label(picture.get("quantity") or "next_w", 40)
    steps = np.arange(1, len(errors) + 1)
    bad = ~np.isfinite(errors)
    shown = np.clip(errors, ERROR_FLOOR_DRAWN, FAR)
    ax.plot(steps[~bad], shown[~bad], ".-", color="tab:red", label=f"your {quantity}")
    top = max([1.0, *shown[~bad]])
    if bad.any():
        ax.plot(steps[bad], np.full(bad.sum(), top), "x", color="black",
                label="NaN or infinite")
    if math.isfinite(tol) and tol > 0:
        ax.axhline(tol, color="black", linestyle="--", label="tolerance")
    ax.set(yscale="log", xlabel="step", ylabel=f"relative error of {quantity}")
    ax.legend(fontsize=8)
    return why


def _plot_paths(ax, picture: dict) -> str | None:
    """The reference's path and the learner's on the problem's contours; where the paths
    cannot show the difference, the error per step instead (_plot_step_errors)."""
    reference, learner = _points(picture.get("reference")), _points(picture.get("learner"))
    start = _finite(_points([picture.get("start")]))
    shown_reference, shown_learner = _finite(reference), _finite(learner)
    points = np.vstack([shown_reference, shown_learner, start])
    if not len(points):  # nothing finite: still a frame, for the title to say what is wrong
        points = np.zeros((1, 2))
    low, high = points.min(axis=0), points.max(axis=0)
    pad = np.maximum(0.15 * (high - low), 0.2)
    low, high = low - pad, high + pad
    trouble = _trouble(learner)
    if _overlap(reference, learner, low, high) and len(_numbers(picture.get("errors"))):
        why = (f"your values are {trouble[1]} from step {trouble[0] + 1}; " if trouble
               else "the paths overlap within a pixel; ")
        return _plot_step_errors(ax, picture, why + "the error at each step instead")
    _contour(ax, picture.get("contour"), low, high)
    ax.plot(*np.vstack([start, shown_reference]).T, ".-", color="tab:blue", label="reference")
    if len(shown_learner):
        ax.plot(*np.vstack([start, shown_learner]).T, ".-", color="tab:red", alpha=0.8,
                label="your function")
    step = picture.get("diverged_at")
    if isinstance(step, int) and 1 <= step <= len(reference) and \
            np.isfinite(reference[step - 1]).all():
        ax.plot(*np.clip(reference[step - 1], -FAR, FAR), "o", markersize=12,
                markerfacecolor="none", color="black", label=f"first difference: step {step}")
    ax.set(xlabel="$w_1$", ylabel="$w_2$", xlim=(low[0], high[0]), ylim=(low[1], high[1]))
    ax.legend(fontsize=8)
    return f"your values are {trouble[1]} from step {trouble[0] + 1}" if trouble else ""


def _plot_errors(ax, picture: dict) -> str | None:
    """One bar per gradient: its relative error against the numerical gradient."""
    errors = picture.get("errors")
    if not isinstance(errors, dict) or not errors:
        return None
    names = [_label(name, 40) for name in list(errors)[:MAX_POINTS]]
    values, tol = _numbers(list(errors.values())), _number(picture.get("tol"))
    bad = ~np.isfinite(values)
    # A NaN or infinite error stands as the largest relative error there is, 1.
    heights = np.where(bad, 1.0, np.clip(values, ERROR_FLOOR_DRAWN, 1.0))
    ax.bar(names, heights, color=["tab:red" if b or e > tol else "tab:green"
                                  for b, e in zip(bad, values)])
    if math.isfinite(tol) and tol > 0:
        ax.axhline(tol, color="black", linestyle="--", label="tolerance")
        ax.legend(fontsize=8)
    ax.set(yscale="log", ylabel="relative error against the numerical gradient")
    return ("your " + ", ".join(np.array(names)[bad]) + " hold NaN or infinite values"
            if bad.any() else "")


def _plot_scatter(ax, picture: dict) -> str | None:
    """The learner's values against the expected ones, with the line where they agree."""
    expected, actual = _numbers(picture.get("expected")), _numbers(picture.get("actual"))
    count = min(len(expected), len(actual))
    points = np.column_stack([expected[:count], actual[:count]])
    shown = _finite(points)
    quantity = _label(picture.get("quantity", ""), 40)
    ax.scatter(*shown.T, s=10, color="tab:red", label="your values")
    if len(shown):
        line = [shown.min(), shown.max()]
        ax.plot(line, line, color="tab:blue", label="expected (equal)")
    ax.set(xlabel=f"expected {quantity}", ylabel=f"your {quantity}")
    ax.legend(fontsize=8)
    trouble = _trouble(points[:, 1:])
    if not trouble:
        return ""
    odd = int(np.sum(~np.isfinite(points[:, 1]) | (np.abs(points[:, 1]) > FAR)))
    step = picture.get("step")
    at = f" at step {step}" if isinstance(step, int) else ""
    return f"your values are {trouble[1]}{at} ({odd} of {count})"


def _plot_distribution(ax, picture: dict) -> str | None:
    """A random function's sorted values between low (0) and high (1) on their scale, the
    learner's against the reference's: right draws follow the diagonal."""
    learner, reference = _numbers(picture.get("learner")), _numbers(picture.get("reference"))
    if not len(learner) or not len(reference):
        return None
    for values, label, color in ((reference, "reference", "tab:blue"),
                                 (learner, "your values", "tab:red")):
        shown = np.clip(np.nan_to_num(values, nan=-1.0, posinf=2.0, neginf=-1.0), -1.0, 2.0)
        ax.plot(shown, np.linspace(0, 1, len(values)), color=color, label=label)
    ax.plot([0, 1], [0, 1], color="black", linestyle="--", linewidth=0.8, label="uniform")
    on = "log of the value" if picture.get("scale") == "log" else "value"
    ax.set(xlabel=f"{_label(picture.get('quantity', ''), 40)}: {on}, from low (0) to high (1)",
           ylabel="fraction of the draws below")
    ax.legend(fontsize=8)
    outside = int(np.sum(~((learner >= -1e-9) & (learner <= 1 + 1e-9))))
    return f"{outside} of your {len(learner)} values shown lie outside [low, high]" if outside else ""


def _plot_pairs(ax, picture: dict) -> str | None:
    """Configurations on two dimensions from low (0) to high (1), the learner's against the
    reference's."""
    learner, reference = _points(picture.get("learner")), _points(picture.get("reference"))
    if not len(learner) or not len(reference):
        return None
    ax.scatter(*_finite(reference).T, s=14, color="tab:blue", alpha=0.5, label="reference")
    ax.scatter(*_finite(learner).T, s=10, color="tab:red", marker="x", label="yours")
    names = picture.get("names") if isinstance(picture.get("names"), list) else []
    names = [_label(name, 40) for name in names[:2]] + ["", ""]
    ax.set(xlabel=f"{names[0]}: from low (0) to high (1), on its scale",
           ylabel=f"{names[1]}: from low (0) to high (1), on its scale")
    ax.legend(fontsize=8)
    odd = int(np.sum(~np.isfinite(learner).all(axis=1)))
    return f"{odd} of your {len(learner)} configurations shown hold NaN or infinity" if odd else ""


PLOTS = {"paths": _plot_paths, "errors": _plot_errors, "scatter": _plot_scatter,
         "distribution": _plot_distribution, "pairs": _plot_pairs}


def plot(picture: dict):
    """The figure of one failed case, drawn from its recorded data, or None when there is
    nothing to draw. Whatever the learner's values, its axis limits are finite; where they
    are NaN, infinite or too large to draw, the title says so."""
    drawer = PLOTS.get(picture.get("kind")) if isinstance(picture, dict) else None
    if drawer is None:
        return None
    figure, ax = _figure()
    note = drawer(ax, picture)
    if note is None:
        return None
    title = _label(picture.get("title", ""))
    ax.set_title(f"{title}\n{_label(note)}" if note else title, fontsize=10)
    return figure


# Pages are drawn in the grading threads, and matplotlib is not thread-safe: its mathtext
# parser (the axis labels' $w_1$) failed now and then when two pictures were drawn at once.
_MATPLOTLIB = threading.Lock()


def draw(picture: dict) -> str | None:
    """A data URI of the picture of one failed case, or None when there is nothing to draw.
    May raise on odd data: the page says so then (see _picture)."""
    with _MATPLOTLIB:
        figure = plot(picture)
        return _png(figure) if figure is not None else None


def _picture(name: str, picture) -> str:
    """The <img> of a function's picture; a line saying so when it cannot be drawn."""
    try:
        image = draw(picture)
    except Exception as exc:  # noqa: BLE001 - the page goes on without the picture
        return (f"<p class='fail'>The picture of this failure could not be drawn "
                f"({_e(type(exc).__name__)}: {_e(exc, 300)}).</p>")
    if not image:
        return ""
    return f"<p><img alt='{_e(name)}: your outputs against the expected' src='{image}'></p>"


def _html(title: str, body: list[str]) -> str:
    return "\n".join([f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>"
                      f"{_e(title)}</title><style>{STYLE}</style></head><body>",
                      f"<h1>{_e(title)}</h1>", *body, "</body></html>"])


def _count(group: dict) -> str:
    """How many of a group's cases passed, in words; a group whose cases never ran (the
    notebook could not be read, the function not called) says so instead of "0 of 0". The
    number of cases is recorded as "cases": the failure messages cannot count them, since
    equal ones are merged ("(in 4 cases)") and only the first few are kept."""
    cases = group.get("cases")
    if not isinstance(cases, int):
        return ""
    if cases == 0:
        return "not run (see the problem above)"
    return f"{len(group['passed'])} of {cases:d} check{'s' * (cases != 1)} passed"


def _page(data: dict, pictures: dict[str, str]) -> str:
    """The page of one results.json's data, with the drawn ``pictures`` (name -> HTML)."""
    extra = data.get("extra_data", {})
    checks, diagnosis = extra.get("checks", {}), extra.get("diagnosis", {})
    problems = extra.get("function_problems", {})
    title = f"{extra.get('assignment', '')}: feedback for {extra.get('student', '')}"
    parts = [f"<p class='score'>Score: {data['score']:g} / "
             f"{sum(t['max_score'] for t in data['tests']):g}</p>",
             f"<details><summary>Your code ran in a sandbox</summary><p>isolation: "
             f"{_e(extra.get('isolation', '?'))}</p></details>"]
    if extra.get("status") == BLANK:
        parts.append("<p class='fail'>Your notebook is unchanged from the release: no answer "
                     "cell was filled in. Save your notebook in Jupyter, then submit it.</p>")
    parts += [f"<p class='fail'>{_e(problem)}</p>" for problem in extra.get("problems", [])]
    if extra.get("printed"):
        parts.append(f"<details><summary>What your code printed</summary><pre>"
                     f"{_e(extra['printed'])}</pre></details>")
    for test in data["tests"]:
        name = test["name"]
        parts.append(f"<h2 id='{_e(name)}'>{_e(name)}: <span class='score'>{test['score']:g} / "
                     f"{test['max_score']:g}</span></h2>")
        if problems.get(name):  # why its cell did not run: the rows below refer to it
            parts.append(f"<pre class='fail'>{_e(problems[name], MAX_OUTPUT_CHARS)}</pre>")
        rows = []
        for group in checks.get(name, []):
            if group.get("held"):
                rows.append(f"<tr><td>{_e(group['group'])} (hidden)</td><td colspan='3'>"
                            f"shown from {_e(group['held'])}</td></tr>")
                continue
            mark = ("<span class='pass'>passed</span>" if group["score"] == group["points"]
                    else "<span class='fail'>failed</span>")
            kind = "hidden" if group["hidden"] else "visible"
            rows.append(f"<tr><td>{_e(group['group'])} ({kind})</td><td>{mark}</td>"
                        f"<td>{group['score']:g} / {group['points']:g}</td>"
                        f"<td>{_count(group)}</td></tr>")
        if rows:
            parts.append("<table><tr><th>checks</th><th>verdict</th><th>points</th><th></th></tr>"
                         + "".join(rows) + "</table>")
        failures = [_e(f) for group in checks.get(name, []) for f in group["failed"]]
        if failures:
            parts.append("<pre>" + "\n".join(failures) + "</pre>")
        for line in diagnosis.get(name, []):
            css = "diagnosis" if str(line).startswith("Diagnosis") else "hint"
            parts.append(f"<div class='{css}'>{_e(line)}</div>")
        unexplained = any(g.get("cases") == 0 for g in checks.get(name, [])) and \
            "function_problems" not in extra  # results written before they were kept apart
        if (not rows and not problems.get(name)) or unexplained:  # the reason is in the output
            parts.append("<pre>" + _e(test.get("output", ""), MAX_OUTPUT_CHARS) + "</pre>")
        parts += [pictures[name]] if pictures.get(name) else []
    return _html(title, parts)


def _size(page: str) -> int:
    return len(page.encode("utf-8", "replace"))


def render_page(data: dict) -> str:
    """The feedback page of one results.json's data, at most MAX_PAGE_BYTES: its texts are
    cut shorter until it fits, then its pictures are left out, and a page that still does
    not fit shows only the scores. Raises on data that is not results.json's shape."""
    if not isinstance(data, dict):
        raise ValueError(f"results.json holds {type(data).__name__}, not an object")
    pictures = {name: _picture(name, picture) for name, picture
                in data.get("extra_data", {}).get("pictures", {}).items()}
    data = fit(data, lambda d: _size(_page(d, pictures)), MAX_PAGE_BYTES)
    for page in (_page(data, pictures), _page(data, {})):
        if _size(page) <= MAX_PAGE_BYTES:
            return page
    return _html("Feedback", [f"<p class='score'>Score: {data['score']:g}</p>",
                              "<p class='fail'>The details of this result are too large to "
                              "show; the score is exact.</p>"])


def error_page(where: str, exc: BaseException) -> str:
    """A minimal page saying that the feedback of ``where`` could not be shown, and why."""
    return _html(f"Feedback for {where}", [
        "<p class='fail'>This feedback page could not be made: "
        f"{_e(type(exc).__name__)}: {_e(exc, 500)}.</p>",
        "<p>Your grade is recorded all the same; tell the organizer.</p>"])


def feedback_page(results: Callable[[], dict], where: str,
                  hidden_from: datetime | None = None) -> str:
    """The feedback page of what ``results()`` returns, the hidden checks' details held back
    until ``hidden_from`` (hidden_details.py); when reading or drawing it fails for any
    reason, a minimal page naming the error: one learner's results never stop a batch or a
    rebuild."""
    try:
        return render_page(held_back(results(), hidden_from))
    except Exception as exc:  # noqa: BLE001 - this page shows the error, the others go on
        return error_page(where, exc)


def read_results(path: Path) -> dict:
    """A results.json as data; raises when it is missing, too large or not JSON."""
    size = path.stat().st_size
    if size > MAX_READ_BYTES:
        raise ValueError(f"{path.name} is {size} bytes, more than this grader writes "
                         f"({MAX_RESULTS_BYTES}); grade this submission again")
    return json.loads(path.read_text(encoding="utf-8", errors="replace"))


def write_page(results_path: Path, hidden_from: datetime | None = None) -> Path:
    """feedback.html beside ``results_path``, drawn from it (or saying why it cannot be)."""
    results_path = Path(results_path)
    page = results_path.with_name(PAGE)
    where = f"{results_path.parent.parent.name}/{results_path.parent.name}"
    write_atomically(page, feedback_page(lambda: read_results(results_path), where,
                                         hidden_from))
    return page


def _score_cell(data) -> str:
    """'score / max' of one results.json's data, with its status when it was not graded
    (missing, blank, unreadable), or why it cannot be shown."""
    try:
        cell = f"{float(data['score']):g} / {sum(float(t['max_score']) for t in data['tests']):g}"
        status = data["extra_data"].get("status", "graded")
    except Exception:  # noqa: BLE001 - one unreadable results.json is one cell of the index
        return "results unreadable"
    return cell if status == "graded" else f"{cell} ({clean_text(status, 40)})"


def _recorded(path: Path):
    """A results.json's data, or None when it cannot be read."""
    try:
        return read_results(path)
    except Exception:  # noqa: BLE001 - one unreadable results.json is one cell of the index
        return None


def _link(*parts: str) -> str:
    """A relative link to OUT/<parts>: each part quoted, so that a folder named
    ``javascript:...`` or holding ``'`` or ``#`` is a path and nothing else."""
    return "./" + "/".join(quote(part, safe="") for part in parts)


def write_index(out: Path) -> Path:
    """index.html in ``out``: the class summary, then every learner, every assignment,
    score, status and link."""
    out = Path(out)
    rows: dict[str, dict[str, str]] = {}

    def results():  # one results.json in memory at a time
        for path in sorted(out.glob("*/*/results.json")):
            data = _recorded(path)
            rows.setdefault(path.parent.parent.name, {})[path.parent.name] = _score_cell(data)
            yield data

    summary = summary_html(summarize(results()))
    assignments = sorted({a for row in rows.values() for a in row})
    table = ["<tr><th>learner</th>" + "".join(f"<th>{_e(a)}</th>" for a in assignments) + "</tr>"]
    for student, row in sorted(rows.items()):
        cells = []
        for a in assignments:
            if a in row:
                cells.append(f"<td><a href='{_e(_link(student, a, PAGE))}'>{_e(row[a])}</a></td>")
            else:
                cells.append("<td>-</td>")
        table.append(f"<tr><td>{_e(student)}</td>{''.join(cells)}</tr>")
    index = out / "index.html"
    write_atomically(index, _html("Scores", [summary, "<h2>Scores</h2><table>"
                                             + "".join(table) + "</table>"]))
    return index


def rebuild(out: Path) -> list[Path]:
    """Every page and the index again, from the recorded results.json files."""
    hidden_from = read_setting(out)
    pages = [write_page(path, hidden_from)
             for path in sorted(Path(out).glob("*/*/results.json"))]
    write_index(out)
    return pages
