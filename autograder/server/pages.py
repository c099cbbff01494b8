"""The server's HTML pages, drawn from views' data. Every text is escaped; pages carry no
inline script (the upload form's drag and drop is /upload.js), so the Content-Security-Policy
can forbid any other. A graded attempt is shown with the batch's own feedback page.
"""
from __future__ import annotations

import html

from ..class_summary import ClassSummary, summary_html
from ..feedback import STYLE
from ..suites import SUITES
from .store import Attempt, Member
from .views import CommonMistake, Scored, Standing, when

EXTRA_STYLE = """
nav{display:flex;gap:1em;align-items:center;border-bottom:1px solid #ddd;padding-bottom:.5em}
nav form{margin-left:auto} .drop{border:2px dashed #999;border-radius:6px;padding:1em;margin:.5em 0}
.drop.over{border-color:#1a7f37;background:#eefbea} .muted{color:#666} .error{color:#c62828}
.bar{display:inline-block;height:.9em;background:#c62828;vertical-align:middle}
.late{color:#9a6700} .done{color:#1a7f37} .who{font-size:1.2em}
"""

# The upload form's file, chosen or dropped: the assignment whose notebook has the file's
# name is selected (never replacing one the learner chose), and the line under the form
# says which file goes to which assignment; the learner presses Submit.
UPLOAD_JS = """const drop = document.getElementById("drop");
if (drop) {
  const input = drop.querySelector("input[type=file]");
  const select = document.getElementById("assignment");
  const status = document.getElementById("chosen");
  const show = () => {
    const file = input.files.length ? input.files[0].name : "";
    if (!file) { status.textContent = ""; return; }
    if (!select.value) {
      const match = [...select.options].find((o) => o.dataset.notebook === file);
      if (match) { select.value = match.value; }
    }
    status.textContent = select.value
      ? `${file} will be submitted as ${select.value}: press Submit.`
      : `${file}: choose its assignment, then press Submit.`;
  };
  input.addEventListener("change", show);
  select.addEventListener("change", show);
  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (event) => { event.preventDefault(); drop.classList.add("over"); });
  }
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      show();
    }
  });
}"""


def e(text) -> str:
    return html.escape(str(text), quote=True)


def score(value: float | None, top: float) -> str:
    return "-" if value is None else f"{value:g} / {top:g}"


def navigation(member: Member | None, csrf: str = "") -> str:
    """The bar at the top of every page: the member's pages and Sign out, or the way in."""
    if member is None:
        return ("<nav><a href='/'>Submission server</a><span class='muted'>not signed in: open "
                "your personal link</span></nav>")
    links = ["<a href='/'>Your assignments</a>"]
    if member.organizer:
        links.append("<a href='/organizer'>Organizer</a>")
    return (f"<nav>{' '.join(links)}<span class='muted'>signed in as {e(member.name)}</span>"
            f"<form method='post' action='/logout'><input type='hidden' name='csrf' "
            f"value='{e(csrf)}'><button>Sign out</button></form></nav>")


def layout(title: str, body: list[str], member: Member | None = None, csrf: str = "",
           refresh: float | None = None) -> str:
    meta = f"<meta http-equiv='refresh' content='{refresh:g}'>" if refresh else ""
    return "\n".join([
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>{meta}"
        f"<meta name='viewport' content='width=device-width'><title>{e(title)}</title>"
        f"<style>{STYLE}{EXTRA_STYLE}</style></head><body>", navigation(member, csrf),
        f"<h1>{e(title)}</h1>", *body, "<script src='/upload.js'></script></body></html>"])


def message(title: str, text: str, member: Member | None = None, csrf: str = "") -> str:
    back = ("<p><a href='/'>Back to your assignments</a></p>" if member else
            "<p>Open your personal link (the organizer gave it to you) to sign in.</p>")
    return layout(title, [f"<p class='error'>{e(text)}</p>", back], member, csrf)


def not_signed_in() -> str:
    return layout("Submission server", [
        "<p>Open your personal link (the organizer gave it to you) to sign in.</p>"])


def confirm_login(member: Member, token: str, nonce: str, current: Member | None,
                  csrf: str) -> str:
    """A personal link's page: who it signs in, who is signed in now, and the button."""
    if current is None:
        note = "<p>This is your personal link: press the button to sign in on this browser.</p>"
    else:
        note = (f"<p class='error'>This browser is signed in as <strong>{e(current.name)}"
                f"</strong>. Signing in as {e(member.name)} signs {e(current.name)} out here, "
                f"and what you submit next counts for {e(member.name)}. If this is not your "
                f"link, close this page.</p>")
    return layout(f"Sign in as {member.name}?", [
        note, f"<form method='post' action='/login' id='sign-in'>"
              f"<input type='hidden' name='token' value='{e(token)}'>"
              f"<input type='hidden' name='confirm' value='{e(nonce)}'>"
              f"<button type='submit'>Sign in as {e(member.name)}</button></form>"],
        current, csrf)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def title(attempt: Attempt) -> str:
    return f"{attempt.assignment}: attempt {attempt.number}"


def _result(scored: Scored) -> str:
    """An attempt's result as a link to its page: the checks score, and what counts of it
    when it was late; a regrade in progress keeps the last score."""
    attempt = scored.attempt
    href = f"href='/attempts/{attempt.id}'"
    if attempt.state in ("failed", "superseded"):
        return f"<a {href} class='error'>{e(attempt.state)}</a>"
    if not attempt.graded:
        return f"<a {href}>{e(attempt.state)}...</a>"
    text = f"<a {href}>{score(attempt.score, attempt.max_score)}</a>"
    if scored.late:
        text += f" <span class='late'>{e(scored.late)}</span>"
    if attempt.pending:
        text += " <span class='muted'>(regrading...)</span>"
    return text


def learner_page(member: Member, csrf: str, rows: list[Standing], late_note: str,
                 server_url: str) -> str:
    table = ["<table><tr><th>assignment</th><th>due</th><th>attempts</th>"
             "<th>counted score</th><th>last attempt</th></tr>"]
    for row in rows:
        last = _result(row.last) if row.last else "-"
        due = e(row.deadline) + (" <span class='muted'>(past)</span>" if row.past_due else "")
        table.append(f"<tr><td>{e(row.assignment)}</td><td>{due}</td>"
                     f"<td>{len(row.attempts)}</td><td class='best'>"
                     f"{score(row.counted, row.max_score)}</td><td class='last'>{last}</td></tr>")
    table.append("</table><p class='muted'>The counted score is that of your attempt that "
                 "counts: the best one, after any late penalty.</p>")
    options = "".join(f"<option data-notebook='{e(SUITES[row.assignment].notebook)}'>"
                      f"{e(row.assignment)}</option>" for row in rows)
    form = (f"<h2>Submit a notebook</h2><form method='post' action='/submit' "
            f"enctype='multipart/form-data' id='upload'>"
            f"<input type='hidden' name='csrf' value='{e(csrf)}'>"
            f"<p class='who'>Submitting as <strong>{e(member.name)}</strong>: the score counts "
            f"for {e(member.name)}.</p>"
            f"<p><label>Assignment <select name='assignment' id='assignment' required>"
            f"<option value='' selected>choose...</option>{options}</select></label></p>"
            f"<div class='drop' id='drop'>Drop the .ipynb file here, or "
            f"<input type='file' name='notebook' accept='.ipynb' required></div>"
            f"<p id='chosen' class='muted'></p>"
            f"<p><button type='submit'>Submit</button></p></form>"
            f"<p class='muted'>From a terminal, in the assignment's folder: "
            f"<code>python submit.py --server {e(server_url)} --token YOUR-TOKEN</code> (the "
            f"token is the end of your personal link; or give the whole link as --token).</p>")
    history = ["<h2>Every attempt</h2>"]
    attempts = [a for row in rows for a in reversed(row.attempts)]
    if attempts:
        history.append("<table><tr><th>assignment</th><th>attempt</th><th>submitted</th>"
                       "<th>result</th></tr>")
        history += [f"<tr><td>{e(s.attempt.assignment)}</td><td>{s.attempt.number}</td>"
                    f"<td>{e(when(s.attempt.submitted))}</td><td>{_result(s)}</td></tr>"
                    for s in attempts]
        history.append("</table>")
    else:
        history.append("<p class='muted'>No attempts yet.</p>")
    pending = any(s.attempt.pending for s in attempts)
    note = [f"<p class='muted'>{e(late_note)}</p>"] if late_note else []
    return layout(f"Assignments of {member.name}", [*table, *note, form, *history], member, csrf,
                  refresh=3 if pending else None)


def pending_page(scored: Scored, member: Member, csrf: str, ahead: int) -> str:
    attempt = scored.attempt
    where = (f"waiting, {plural(ahead, 'submission')} ahead of it" if attempt.state == "queued"
             else "being graded now")
    body = [f"<p class='state'>This attempt is {e(where)}. This page shows the feedback as "
            f"soon as it is ready.</p>"]
    if attempt.graded:
        body.append(f"<p>Being graded again; until then its last score stands: "
                    f"{_result(scored)}</p>")
    return layout(title(attempt), body, member, csrf, refresh=1)


def failed_page(attempt: Attempt, member: Member, csrf: str) -> str:
    """A failed attempt's page, or a superseded one's (its notebook is kept, not graded)."""
    why = ("This upload was not graded: " if attempt.state == "superseded" else
           "This submission could not be graded: ")
    return layout(title(attempt), [
        f"<p class='error'>{why}{e(attempt.error)}</p>",
        "<p><a href='/'>Back to your assignments</a></p>"], member, csrf)


def with_navigation(feedback: str, scored: Scored, member: Member, csrf: str) -> str:
    """The batch's feedback page with the server's bar on top, a line saying which attempt
    it is, and what the late policy made of its score."""
    attempt = scored.attempt
    lines = [f"<style>{EXTRA_STYLE}</style>", navigation(member, csrf),
             f"<p><a href='/'>&larr; Your assignments</a> &middot; attempt {attempt.number} of "
             f"{e(attempt.assignment)} by {e(attempt.member)}, submitted "
             f"{e(when(attempt.submitted))}</p>"]
    if scored.late:
        lines.append(f"<p class='late'>{e(scored.late)}</p>")
    head, found, rest = feedback.partition("<body>")
    return head + found + "".join(lines) + rest if found else feedback


def _common(mistakes: list[CommonMistake]) -> list[str]:
    if not mistakes:
        return ["<p>No diagnosed mistakes yet.</p>"]
    rows = []
    for m in mistakes:
        width = round(200 * m.members / max(m.of, 1))
        rows.append(f"<tr><td>{m.members} of {m.of}</td><td><span class='bar' "
                    f"style='width:{width}px'></span></td><td>{e(m.mistake)}</td>"
                    f"<td>{e(m.function)} ({e(m.assignment)})</td></tr>")
    return ["<table class='mistakes'><tr><th>members</th><th></th><th>mistake</th>"
            "<th>in</th></tr>", *rows, "</table>"]


def organizer_page(member: Member, csrf: str, grid, summary: ClassSummary,
                   mistakes: list[CommonMistake], counts: dict[str, int],
                   regraded: str | None = None) -> str:
    assignments = sorted(SUITES)
    table = ["<table class='grid'><tr><th>member</th>"
             + "".join(f"<th>{e(a)}</th>" for a in assignments) + "</tr>"]
    for who, rows in grid:
        cells = []
        for row in rows:
            if not row.attempts:
                cells.append("<td>-</td>")
                continue
            shown = (row.counting or row.last).attempt
            cells.append(f"<td><a href='/attempts/{shown.id}'>{score(row.counted, row.max_score)}"
                         f"</a> <span class='muted'>({plural(len(row.attempts), 'attempt')}, "
                         f"last {_result(row.last)})</span></td>")
        table.append(f"<tr><td>{e(who.name)}</td>{''.join(cells)}</tr>")
    table.append("</table>")
    queue = ", ".join(f"{n} {e(state)}" for state, n in sorted(counts.items())) or "empty"
    done = [f"<p class='done'>{e(regraded)}</p>"] if regraded else []
    actions = (f"<h2>Actions</h2><p><a href='/organizer/grades.csv'>Download the grades (CSV)</a>"
               f"</p><form method='post' action='/organizer/regrade'>"
               f"<input type='hidden' name='csrf' value='{e(csrf)}'>"
               f"<select name='assignment'><option value=''>every assignment</option>"
               + "".join(f"<option>{e(a)}</option>" for a in assignments)
               + "</select> <button>Regrade</button> <span class='muted'>after a suite changed: "
               "every attempt is graded again; scores stay until the new ones are in</span></form>")
    return layout("Organizer", [
        *done, "<h2>Members and assignments</h2><p class='muted'>per member, the counted score "
        "of the attempt that counts (the best, after any late penalty), how many attempts, "
        "and the last one's result</p>", *table, f"<p>Queue: {queue}</p>",
        "<h2>Mistakes made most often</h2><p class='muted'>in each member's attempt that "
        "counts, as the class summary below</p>", *_common(mistakes), summary_html(summary),
        actions], member, csrf)
