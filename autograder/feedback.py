"""Feedback pages: one self-contained HTML page per learner and assignment, and an index.

Pages are drawn from results.json alone (the recorded results), so grading and the
`feedback` command make the same pages. Every text that came from a learner's code is
escaped; pictures are PNGs drawn with matplotlib's object API and embedded as data URIs,
so a page is one file that opens anywhere. Hidden cases appear only as their description
in words; no test code and no reference code is on any page.
"""
from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np

PAGE = "feedback.html"
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

    figure = Figure(figsize=(6.4, 4.2), dpi=90)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def draw(picture: dict) -> str | None:
    """A data URI of the picture of one failed case, or None when it cannot be drawn."""
    figure, ax = _figure()
    kind = picture.get("kind")
    if kind == "paths":
        reference, learner = np.array(picture["reference"]), np.array(picture["learner"])
        points = np.vstack([reference] + ([learner] if len(learner) else []) + [picture["start"]])
        low, high = points.min(axis=0), points.max(axis=0)
        pad = np.maximum(0.15 * (high - low), 0.2)
        if picture.get("contour"):
            A, b = np.array(picture["contour"]["A"]), np.array(picture["contour"]["b"])
            x, y = np.meshgrid(np.linspace(low[0] - pad[0], high[0] + pad[0], 150),
                               np.linspace(low[1] - pad[1], high[1] + pad[1], 150))
            grid = np.stack([x, y], axis=-1)
            z = 0.5 * np.einsum("...i,ij,...j->...", grid, A, grid) + grid @ b
            ax.contour(x, y, z, levels=25, cmap="Greys", linewidths=0.5)
        start = np.array([picture["start"]])
        ax.plot(*np.vstack([start, reference]).T, ".-", color="tab:blue", label="reference")
        if len(learner):
            ax.plot(*np.vstack([start, learner]).T, ".-", color="tab:red", alpha=0.8,
                    label="your function")
        step = picture.get("diverged_at")
        if step and step <= len(reference):
            ax.plot(*reference[step - 1], "o", markersize=12, markerfacecolor="none",
                    color="black", label=f"first difference: step {step}")
        ax.set(xlabel="$w_1$", ylabel="$w_2$", xlim=(low[0] - pad[0], high[0] + pad[0]),
               ylim=(low[1] - pad[1], high[1] + pad[1]))
        ax.legend(fontsize=8)
    elif kind == "errors" and picture.get("errors"):
        names, errors = zip(*picture["errors"].items())
        ax.bar(names, np.maximum(errors, 1e-16), color=["tab:red" if e > picture["tol"]
                                                        else "tab:green" for e in errors])
        ax.axhline(picture["tol"], color="black", linestyle="--", label="tolerance")
        ax.set(yscale="log", ylabel="relative error against the numerical gradient")
        ax.legend(fontsize=8)
    elif kind == "scatter":
        expected, actual = np.array(picture["expected"]), np.array(picture["actual"])
        ax.scatter(expected, actual, s=10, color="tab:red", label="your values")
        line = [min(expected.min(), actual.min()), max(expected.max(), actual.max())]
        ax.plot(line, line, color="tab:blue", label="expected (equal)")
        ax.set(xlabel=f"expected {picture['quantity']}", ylabel=f"your {picture['quantity']}")
        ax.legend(fontsize=8)
    else:
        return None
    ax.set_title(picture.get("title", ""), fontsize=10)
    return _png(figure)


def _e(text) -> str:
    return html.escape(str(text))


def render_page(data: dict) -> str:
    extra = data.get("extra_data", {})
    checks, diagnosis = extra.get("checks", {}), extra.get("diagnosis", {})
    pictures = extra.get("pictures", {})
    title = f"{extra.get('assignment', '')}: feedback for {extra.get('student', '')}"
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}"
             f"</title><style>{STYLE}</style></head><body>",
             f"<h1>{_e(title)}</h1>",
             f"<p class='score'>Score: {data['score']:g} / "
             f"{sum(t['max_score'] for t in data['tests']):g}</p>",
             f"<p>Your code ran with isolation: {_e(extra.get('isolation', '?'))}.</p>"]
    parts += [f"<p class='fail'>{_e(problem)}</p>" for problem in extra.get("problems", [])]
    for test in data["tests"]:
        name = test["name"]
        parts.append(f"<h2 id='{_e(name)}'>{_e(name)}: <span class='score'>{test['score']:g} / "
                     f"{test['max_score']:g}</span></h2>")
        rows = []
        for group in checks.get(name, []):
            mark = ("<span class='pass'>passed</span>" if group["score"] == group["points"]
                    else "<span class='fail'>failed</span>")
            kind = "hidden" if group["hidden"] else "visible"
            rows.append(f"<tr><td>{_e(group['group'])} ({kind})</td><td>{mark}</td>"
                        f"<td>{group['score']:g} / {group['points']:g}</td>"
                        f"<td>{len(group['passed'])} of {len(group['passed']) + len(group['failed'])}"
                        f" checks passed</td></tr>")
        if rows:
            parts.append("<table><tr><th>checks</th><th>verdict</th><th>points</th><th></th></tr>"
                         + "".join(rows) + "</table>")
        failures = [f for group in checks.get(name, []) for f in group["failed"]]
        if failures:
            parts.append("<pre>" + _e("\n".join(failures)) + "</pre>")
        for line in diagnosis.get(name, []):
            css = "diagnosis" if line.startswith("Diagnosis") else "hint"
            parts.append(f"<div class='{css}'>{_e(line)}</div>")
        if not rows:  # not graded at all: the reason is in the output
            parts.append("<pre>" + _e(test.get("output", "")) + "</pre>")
        image = draw(pictures[name]) if name in pictures else None
        if image:
            parts.append(f"<p><img alt='{_e(name)}: your outputs against the expected' "
                         f"src='{image}'></p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_page(results_path: Path) -> Path:
    data = json.loads(Path(results_path).read_text(encoding="utf-8"))
    page = Path(results_path).with_name(PAGE)
    page.write_text(render_page(data), encoding="utf-8")
    return page


def write_index(out: Path) -> Path:
    """index.html in ``out``: every learner, every assignment, score and link."""
    out = Path(out)
    rows: dict[str, dict[str, tuple[float, float]]] = {}
    for path in sorted(out.glob("*/*/results.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        rows.setdefault(path.parent.parent.name, {})[path.parent.name] = (
            data["score"], sum(t["max_score"] for t in data["tests"]))
    assignments = sorted({a for row in rows.values() for a in row})
    table = ["<tr><th>learner</th>" + "".join(f"<th>{_e(a)}</th>" for a in assignments) + "</tr>"]
    for student, row in sorted(rows.items()):
        cells = []
        for a in assignments:
            if a in row:
                cells.append(f"<td><a href='{_e(student)}/{_e(a)}/{PAGE}'>"
                             f"{row[a][0]:g} / {row[a][1]:g}</a></td>")
            else:
                cells.append("<td>-</td>")
        table.append(f"<tr><td>{_e(student)}</td>{''.join(cells)}</tr>")
    index = out / "index.html"
    index.write_text(f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Scores"
                     f"</title><style>{STYLE}</style></head><body><h1>Scores</h1><table>"
                     + "".join(table) + "</table></body></html>", encoding="utf-8")
    return index


def rebuild(out: Path) -> list[Path]:
    """Every page and the index again, from the recorded results.json files."""
    pages = [write_page(path) for path in sorted(Path(out).glob("*/*/results.json"))]
    write_index(out)
    return pages
