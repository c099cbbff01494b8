"""The web application: thin route handlers over the store, the upload and the views.

    GET  /login?token=T         a personal link: asks "Sign in as NAME?"
    POST /login                 the answer: the token becomes a session cookie
    GET  /                      the member's assignments, scores, attempts and upload form
    POST /submit                the upload form (CSRF token, assignment, notebook)
    GET  /attempts/{id}         an attempt: waiting, failed, or the batch's feedback page
    POST /logout
    GET  /organizer             members against assignments, the class summary, actions
                                (?regraded=N: says that N attempts were queued again)
    GET  /organizer/grades.csv
    POST /organizer/regrade
    POST /api/submit/{assignment}   submit.py: the notebook's bytes, Authorization: Bearer T
    GET  /api/attempts/{id}         submit.py: the attempt as JSON

A member sees only their own attempts (another's is "not found", as one that does not
exist); organizer pages need an organizer's session. Forms carry the session's CSRF token;
the API takes no cookie, only the token, so a page elsewhere cannot submit for a member.
Request bodies are cut off past the upload limit while they stream in.

A link opened never signs in by itself: a page elsewhere could send a member's browser to
someone else's link and have their uploads credited to that person. The link's page asks
(naming who is signed in now, if anyone), and only its own form signs in: a POST from this
site (Origin, Sec-Fetch-Site) carrying the nonce of a SameSite=Strict cookie that the
link's page set, which a page elsewhere can neither read nor make the browser send.
"""
from __future__ import annotations

import hmac
import math
import secrets
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..feedback import PAGE, feedback_page, read_results
from ..suites import SUITES
from . import pages, views
from .config import ServerConfig
from .store import SESSION_SECONDS, Attempt, Member, Store
from .uploads import Gate, UploadRefused, accept, file_chunks, too_large
from .workers import results_path

COOKIE = "session"
LOGIN_COOKIE = "login"  # the nonce of the link's page, sent back only by its own form
LOGIN_SECONDS = 600
FORM_OVERHEAD = 64 * 2**10  # multipart boundaries and the other fields, beside the file
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                                 b"script-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                                 b"base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),  # the login link's token never leaves in a Referer
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


class BodyTooLarge(Exception):
    pass


class Guard:
    """ASGI middleware: security headers on every response, and request bodies refused
    (413) past ``limit`` bytes, by their Content-Length or while they stream in."""

    def __init__(self, app, limit: int, refusal):
        self.app = app
        self.limit = limit
        self.refusal = refusal

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_secured(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []),
                                                  *SECURITY_HEADERS]}
            await send(message)

        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.limit:
            response = self.refusal(scope, too_large(self.limit - FORM_OVERHEAD))
            return await response(scope, receive, send_secured)
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise BodyTooLarge()
            return message

        await self.app(scope, counted, send_secured)


def _wants_json(scope) -> bool:
    return scope["path"].startswith("/api/")


def create_app(config: ServerConfig) -> Starlette:
    store = Store(config.store_path)
    gate = Gate()

    def session_of(scope) -> tuple[Member | None, str]:
        """The signed-in member of a request (None, '' if none): every page shows the bar."""
        cookie = Request(scope).cookies.get(COOKIE)
        found = store.session(cookie) if cookie else None
        return found or (None, "")

    def refusal(scope, exc: UploadRefused) -> Response:
        headers = {"retry-after": str(math.ceil(exc.retry_after))} if exc.retry_after else {}
        if _wants_json(scope):
            return JSONResponse({"error": str(exc)}, exc.status, headers=headers)
        return HTMLResponse(pages.message("Not submitted", str(exc), *session_of(scope)),
                            exc.status, headers=headers)

    def signed_in(request: Request) -> tuple[Member, str]:
        cookie = request.cookies.get(COOKIE)
        found = store.session(cookie) if cookie else None
        if found is None:
            raise HTTPException(401, "sign in with your personal link")
        return found

    async def checked_form(request: Request) -> tuple[Member, str, dict]:
        member, csrf = signed_in(request)
        form = await request.form(max_files=1, max_fields=10,
                                  max_part_size=config.max_upload_bytes)
        sent = str(form.get("csrf", "")).encode("utf-8", "replace")
        if not hmac.compare_digest(sent, csrf.encode()):
            raise HTTPException(403, "this form is out of date or was not sent by this site; "
                                     "reload the page and try again")
        return member, csrf, form

    def visible_attempt(member: Member, job_id: int) -> Attempt:
        attempt = store.attempt(job_id)
        if attempt is None or (attempt.member != member.name and not member.organizer):
            raise HTTPException(404, "there is no such attempt of yours")
        return attempt

    def organizer(request: Request) -> tuple[Member, str]:
        member, csrf = signed_in(request)
        if not member.organizer:
            raise HTTPException(403, "this page is for the organizer")
        return member, csrf

    def link_not_valid() -> Response:
        return HTMLResponse(pages.message("Link not valid", "This link is not valid (or a "
                                          "newer one replaced it); ask the organizer for "
                                          "yours."), 403)

    def landing(member: Member) -> Response:
        return RedirectResponse("/organizer" if member.organizer else "/", 303)

    def login_page(request: Request) -> Response:
        member = store.member_by_token(request.query_params.get("token", ""))
        if member is None:
            return link_not_valid()
        current, csrf = session_of(request.scope)
        if current is not None and current.id == member.id:
            return landing(member)  # this browser is theirs already: no second session
        nonce = secrets.token_urlsafe(32)
        response = HTMLResponse(pages.confirm_login(member, request.query_params["token"],
                                                    nonce, current, csrf))
        response.set_cookie(LOGIN_COOKIE, nonce, max_age=LOGIN_SECONDS, path="/login",
                            httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    def from_this_site(request: Request) -> bool:
        """Sec-Fetch-Site where the browser sends it; else Origin, unless absent or "null"
        (a browser sends that under Referrer-Policy: no-referrer): the SameSite=Strict
        nonce cookie is the check left then."""
        site = request.headers.get("sec-fetch-site")
        if site is not None:
            return site == "same-origin"
        origin = request.headers.get("origin", "null")
        return origin == "null" or urlsplit(origin).netloc in {
            request.headers.get("host"), urlsplit(config.url).netloc}

    async def login(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=5)
        sent = str(form.get("confirm", "")).encode("utf-8", "replace")
        nonce = request.cookies.get(LOGIN_COOKIE, "").encode()
        if not (from_this_site(request) and nonce and hmac.compare_digest(sent, nonce)):
            raise HTTPException(403, "this sign-in was not sent by this site's own page; open "
                                     "your personal link again and press its button")
        member = store.member_by_token(str(form.get("token", "")))
        if member is None:
            return link_not_valid()
        old = request.cookies.get(COOKIE)
        if old:
            store.close_session(old)
        cookie = secrets.token_urlsafe(32)
        store.open_session(member, cookie, secrets.token_urlsafe(32))
        response = landing(member)
        response.set_cookie(COOKIE, cookie, max_age=SESSION_SECONDS, httponly=True,
                            samesite="lax", secure=request.url.scheme == "https")
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response

    def home(request: Request) -> Response:
        cookie = request.cookies.get(COOKIE)
        found = store.session(cookie) if cookie else None
        if found is None:
            return HTMLResponse(pages.not_signed_in(), 401)
        member, csrf = found
        return HTMLResponse(pages.learner_page(member, csrf, views.member_standings(
            store, config, member), config.late.describe(), config.url))

    async def submit(request: Request) -> Response:
        with gate.hold(signed_in(request)[0]):
            member, _, form = await checked_form(request)
            upload = form.get("notebook")
            if upload is None or isinstance(upload, str):
                raise UploadRefused(400, "choose the notebook file to upload")
            job = await accept(store, config, gate, member, str(form.get("assignment", "")),
                               file_chunks(upload))
        return RedirectResponse(f"/attempts/{job}", 303)

    def attempt_page(request: Request) -> Response:
        member, csrf = signed_in(request)
        attempt = visible_attempt(member, request.path_params["job"])
        scored = views.scored(config, attempt)
        if attempt.pending:
            ahead = sum(1 for a in store.attempts() if a.state == "queued" and a.id < attempt.id)
            return HTMLResponse(pages.pending_page(scored, member, csrf, ahead))
        if attempt.state in ("failed", "superseded"):
            return HTMLResponse(pages.failed_page(attempt, member, csrf))
        path = results_path(config, attempt.id)
        page = path.with_name(PAGE)
        text = (page.read_text(encoding="utf-8", errors="replace") if page.is_file() else
                feedback_page(lambda: read_results(path), pages.title(attempt)))
        return HTMLResponse(pages.with_navigation(text, scored, member, csrf))

    async def logout(request: Request) -> Response:
        await checked_form(request)
        store.close_session(request.cookies[COOKIE])
        response = RedirectResponse("/", 303)
        response.delete_cookie(COOKIE)
        return response

    def organizer_page(request: Request) -> Response:
        member, csrf = organizer(request)
        summary = views.class_summary(store, config)
        regraded = request.query_params.get("regraded", "")
        return HTMLResponse(pages.organizer_page(
            member, csrf, views.grid(store, config), summary, views.common_mistakes(summary),
            store.counts(), regraded=(f"{pages.plural(int(regraded), 'attempt')} queued for "
                                      f"regrading" if regraded.isdigit() else None)))

    def grades_csv(request: Request) -> Response:
        organizer(request)
        return Response(views.grades_csv(store, config), media_type="text/csv",
                        headers={"content-disposition": "attachment; filename=grades.csv"})

    async def regrade(request: Request) -> Response:
        member, _, form = await checked_form(request)
        if not member.organizer:
            raise HTTPException(403, "this page is for the organizer")
        assignment = str(form.get("assignment") or "") or None
        if assignment is not None and assignment not in SUITES:
            raise HTTPException(404, f"there is no assignment '{assignment[:80]}'")
        return RedirectResponse(f"/organizer?regraded={store.regrade(assignment)}", 303)

    def bearer(request: Request) -> Member:
        kind, _, token = request.headers.get("authorization", "").partition(" ")
        member = store.member_by_token(token) if kind.lower() == "bearer" and token else None
        if member is None:
            raise HTTPException(401, "a valid token is needed: the end of your personal link, "
                                     "after 'token='")
        return member

    async def api_submit(request: Request) -> Response:
        member = bearer(request)
        with gate.hold(member):
            job = await accept(store, config, gate, member, request.path_params["assignment"],
                               request.stream())
        return JSONResponse(views.attempt_json(config, store.attempt(job)), 202)

    def api_attempt(request: Request) -> Response:
        member = bearer(request)
        return JSONResponse(views.attempt_json(
            config, visible_attempt(member, request.path_params["job"])))

    def api_assignments(request: Request) -> Response:
        bearer(request)
        return JSONResponse(sorted(SUITES))

    def script(request: Request) -> Response:
        return Response(pages.UPLOAD_JS, media_type="text/javascript")

    async def refused(request: Request, exc: UploadRefused) -> Response:
        return refusal(request.scope, exc)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        if _wants_json(request.scope):
            return JSONResponse({"error": exc.detail}, exc.status_code)
        return HTMLResponse(pages.message(f"Error {exc.status_code}", exc.detail,
                                          *session_of(request.scope)), exc.status_code)

    async def body_too_large(request: Request, exc: BodyTooLarge) -> Response:
        return refusal(request.scope, too_large(config.max_upload_bytes))

    routes = [
        Route("/", home), Route("/login", login_page),
        Route("/login", login, methods=["POST"]), Route("/logout", logout, methods=["POST"]),
        Route("/submit", submit, methods=["POST"]),
        Route("/attempts/{job:int}", attempt_page), Route("/upload.js", script),
        Route("/organizer", organizer_page), Route("/organizer/grades.csv", grades_csv),
        Route("/organizer/regrade", regrade, methods=["POST"]),
        Route("/api/assignments", api_assignments),
        Route("/api/submit/{assignment}", api_submit, methods=["POST"]),
        Route("/api/attempts/{job:int}", api_attempt),
    ]
    app = Starlette(routes=routes, exception_handlers={
        UploadRefused: refused, HTTPException: http_error, BodyTooLarge: body_too_large})
    return Guard(app, config.max_upload_bytes + FORM_OVERHEAD, refusal)
