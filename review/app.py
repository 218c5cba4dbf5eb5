"""The review screen (FastAPI, server-rendered): log in, work through the queue, decide per offer.

``create_app(config, store)`` builds the app (tests use it); ``serve`` runs it
with uvicorn for ``vng-ingest review``.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.base import BaseHTTPMiddleware

from review import actions, fields, highlight
from review import queue as review_queue
from review.security import HEADERS, Sessions, csrf_ok, session_secret
from review.users import authenticate, find
from store import Store
from store.schema import Message, OfferRow, ReviewState, utcnow
from vng_ingest.config import Config

HERE = Path(__file__).resolve().parent
TZ = ZoneInfo("Europe/Amsterdam")
STATE_LABELS = {"pending": "te beoordelen", "auto_accepted": "automatisch geaccepteerd",
                "approved": "goedgekeurd", "corrected": "verbeterd en goedgekeurd",
                "rejected": "afgewezen", "superseded": "vervangen door nieuwere verwerking"}
DONE = {"approved": "Goedgekeurd.", "corrected": "Verbeterd en goedgekeurd.", "rejected": "Afgewezen.",
        "kind": "Soort van het bericht opgeslagen.", "added": "Aanbod toegevoegd.",
        "split": "Aanbod gesplitst: pas beide delen aan.", "login": "U bent ingelogd."}
ACTION_LABELS = {"extracted": "machine", "approve": "goedgekeurd", "reject": "afgewezen",
                 "correct": "verbeterd", "reclassify": "soort gewijzigd", "add": "toegevoegd",
                 "split": "gesplitst"}


class LoginRequired(Exception):
    pass


class CsrfRefused(Exception):
    pass


class NotFound(Exception):
    pass


def when(moment) -> str:
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    moment = review_queue.aware(moment)
    return moment.astimezone(TZ).strftime("%d-%m-%Y %H:%M") if moment else ""


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["when"] = when
    env.globals.update(LABELS=fields.LABELS, KINDS=fields.KINDS, STATUSES=fields.STATUSES,
                       STATES=review_queue.STATES, FAILED_REASON=review_queue.FAILED_REASON, STATE_LABELS=STATE_LABELS, ACTION_LABELS=ACTION_LABELS,
                       as_text=fields.as_text)
    return Jinja2Templates(env=env)


class _Throttle:
    """Slows down password guessing: after 5 failures for a name, one try per 30 seconds."""

    def __init__(self):
        self._failures: dict[str, tuple[int, float]] = {}

    def blocked(self, name: str) -> bool:
        count, last = self._failures.get(name.lower(), (0, 0.0))
        return count >= 5 and time.monotonic() - last < 30

    def failed(self, name: str) -> None:
        count, _ = self._failures.get(name.lower(), (0, 0.0))
        self._failures[name.lower()] = (count + 1, time.monotonic())

    def reset(self, name: str) -> None:
        self._failures.pop(name.lower(), None)


def create_app(config: Config, store: Store) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    sessions = Sessions(session_secret(config))
    templates = _templates()
    throttle = _Throttle()
    settings = config.review
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    class SessionAndHeaders(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next):
            request.state.session = sessions.load(request)
            response = await call_next(request)
            if request.state.session.changed:
                sessions.save(request, response, request.state.session)
            for name, value in HEADERS.items():
                response.headers.setdefault(name, value)
            return response

    app.add_middleware(SessionAndHeaders)

    def page(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
        session = request.state.session
        context.setdefault("user", getattr(request.state, "user", None))
        done = request.query_params.get("done")
        context.setdefault("notice", DONE.get(done) if done else None)
        return templates.TemplateResponse(request, name, {"csrf": session.csrf, **context},
                                           status_code=status)

    def user_of(request: Request) -> str:
        name = request.state.session.user
        if name:
            with store.session() as db:
                user = find(db, name)
                if user is not None and user.active:
                    request.state.user = user.username
                    return user.username
        raise LoginRequired()

    async def form_of(request: Request) -> dict[str, str]:
        form = await request.form()
        values = {key: str(value) for key, value in form.items() if isinstance(value, str)}
        if not csrf_ok(request.state.session, values.get("csrf")):
            raise CsrfRefused()
        return values

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(CsrfRefused)
    async def _csrf_refused(request: Request, _exc) -> Response:
        return page(request, "error.html", 403, title="Niet toegestaan",
                    message="Dit formulier is verlopen of niet geldig. Laad de pagina opnieuw en "
                            "probeer het nog eens.")

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, _exc) -> Response:
        return page(request, "error.html", 404, title="Niet gevonden",
                    message="Dit item bestaat niet (meer).")

    @app.get("/login")
    async def login_form(request: Request):
        return page(request, "login.html", error=None, username="")

    @app.post("/login")
    async def login(request: Request):
        form = await form_of(request)
        username, password = form.get("username", "")[:100], form.get("password", "")
        user = None
        if not throttle.blocked(username):
            with store.session() as db:
                found = authenticate(db, username, password)
                user = found.username if found else None
        if user is None:
            throttle.failed(username)
            return page(request, "login.html", 401, username=username,
                        error="Gebruikersnaam of wachtwoord klopt niet (of het account is uitgeschakeld).")
        throttle.reset(username)
        session = request.state.session
        session.user, session.changed = user, True
        session.csrf = secrets.token_urlsafe(32)   # a new token for the new session
        return RedirectResponse("/?done=login", status_code=303)

    @app.post("/logout")
    async def logout(request: Request):
        await form_of(request)
        session = request.state.session
        session.user, session.changed = None, True
        return RedirectResponse("/login", status_code=303)

    @app.get("/")
    async def queue_page(request: Request):
        user = user_of(request)
        filters = review_queue.Filters.read(request.query_params)
        with store.session() as db:
            items = review_queue.items(db, filters, utcnow())
            counts = review_queue.counts(db)
            gemeenten = review_queue.municipalities(db)
        return page(request, "queue.html", user=user, items=items, limit=review_queue.LIMIT, counts=counts, filters=filters,
                    gemeenten=gemeenten, query=_query(filters))

    def _neighbours(db, filters, key):
        items = review_queue.items(db, filters, utcnow())
        return review_queue.neighbours(items, key)

    def _item_url(item, filters, done: str | None = None) -> str:
        params = filters.query()
        if done:
            params["done"] = done
        base = item.url if item else "/"
        return base + ("?" + urlencode(params) if params else "")

    def _message_view(message: Message, evidence: dict | None) -> dict:
        parsed = message.parsed or {}
        texts = {key: parsed.get(key) or "" for key in ("new_text", "signature", "quoted", "forwarded")}
        attachments = parsed.get("attachments") or []
        for attachment in attachments:
            texts[f"attachment:{attachment.get('filename')}"] = attachment.get("text") or ""
        spans = highlight.find_spans(texts, evidence or {})
        labels = {fields.meta_key(c): label for c, label in fields.LABELS.items()}
        shown = {key: highlight.render(text, spans.get(key, []), labels) for key, text in texts.items()}
        raw = None
        if not parsed.get("new_text"):
            raw = message.raw[:50000].decode("utf-8", "replace")
        return {"parsed": parsed, "shown": shown, "marked": set(spans), "attachments": attachments,
                "raw": raw}

    def _offer_context(db, row: OfferRow, user: str, filters, lock_holder=None, values=None,
                       errors=None, conflict=None) -> dict:
        message = row.message
        siblings = [o for o in message.offers if o.review_state != ReviewState.SUPERSEDED]
        prev_item, next_item = _neighbours(db, filters, f"offer-{row.id}")
        confidence = {c: fields.lookup(row.confidence, c) for c in fields.FIELDS}
        uncertain = {c for c, v in confidence.items()
                     if (isinstance(v, (int, float)) and v < settings.field_threshold)
                     or (v is None and c in fields.KEY_COLUMNS and row.review_state == ReviewState.PENDING)}
        return {"user": user, "row": row, "message": message, "siblings": siblings,
                "view": _message_view(message, row.evidence),
                "values": values or {c: fields.as_text(getattr(row, c)) for c in fields.FIELDS},
                "errors": errors or {}, "confidence": confidence, "uncertain": uncertain,
                "lock_holder": lock_holder, "conflict": conflict,
                "history": actions.history(db, [o.id for o in message.offers], message.id),
                "prev_url": _item_url(prev_item, filters) if prev_item else None,
                "next_url": _item_url(next_item, filters) if next_item else None,
                "query": _query(filters), "filters": filters}

    @app.get("/offers/{offer_id}")
    async def offer_page(request: Request, offer_id: int):
        user = user_of(request)
        filters = review_queue.Filters.read(request.query_params)
        with store.session() as db:
            row = db.get(OfferRow, offer_id)
            if row is None:
                raise NotFound()
            holder = actions.lock(db, row, user, settings.lock_minutes, utcnow())
            context = _offer_context(db, row, user, filters, lock_holder=holder)
        return page(request, "offer.html", **context)

    @app.post("/offers/{offer_id}")
    async def offer_save(request: Request, offer_id: int):
        user = user_of(request)
        form = await form_of(request)
        filters = review_queue.Filters.read(form)
        decision = form.get("action")
        if decision not in ("approve", "reject"):
            decision = "approve"
        version = _int(form.get("version"))
        values, errors = fields.parse_form(form)
        if not errors:
            try:
                with store.session() as db:
                    row = db.get(OfferRow, offer_id)
                    if row is None:
                        raise NotFound()
                    _, next_item = _neighbours(db, filters, f"offer-{offer_id}")
                    state = actions.review_offer(db, row, user, version, decision, values)
                return RedirectResponse(_item_url(next_item, filters, done=state), status_code=303)
            except actions.Conflict as conflict:
                return _offer_again(request, offer_id, user, filters, 409, form, conflict=str(conflict))
        return _offer_again(request, offer_id, user, filters, 400, form, errors=errors)

    def _offer_again(request, offer_id, user, filters, status, form, errors=None, conflict=None):
        with store.session() as db:
            row = db.get(OfferRow, offer_id)
            if row is None:
                raise NotFound()
            values = None if conflict else {c: form.get(c, "") for c in fields.FIELDS}
            context = _offer_context(db, row, user, filters, values=values, errors=errors, conflict=conflict)
        if conflict:
            context["mine"] = {c: form.get(c, "") for c in fields.FIELDS}
        return page(request, "offer.html", status, **context)

    @app.post("/offers/{offer_id}/split")
    async def offer_split(request: Request, offer_id: int):
        user = user_of(request)
        form = await form_of(request)
        filters = review_queue.Filters.read(form)
        try:
            with store.session() as db:
                row = db.get(OfferRow, offer_id)
                if row is None:
                    raise NotFound()
                actions.split_offer(db, row, user, _int(form.get("version")))
        except actions.Conflict as conflict:
            return _offer_again(request, offer_id, user, filters, 409, form, conflict=str(conflict))
        params = {**filters.query(), "done": "split"}
        return RedirectResponse(f"/offers/{offer_id}?{urlencode(params)}", status_code=303)

    @app.get("/messages/{message_pk}")
    async def message_page(request: Request, message_pk: int):
        user = user_of(request)
        filters = review_queue.Filters.read(request.query_params)
        with store.session() as db:
            context = _message_context(db, message_pk, user, filters)
        return page(request, "message.html", **context)

    def _message_context(db, message_pk, user, filters, errors=None, values=None, conflict=None) -> dict:
        message = db.get(Message, message_pk)
        if message is None:
            raise NotFound()
        prev_item, next_item = _neighbours(db, filters, f"message-{message_pk}")
        return {"user": user, "message": message, "view": _message_view(message, None),
                "siblings": [o for o in message.offers if o.review_state != ReviewState.SUPERSEDED],
                "history": actions.history(db, [o.id for o in message.offers], message.id),
                "errors": errors or {}, "new_values": values or {"status": "available"},
                "conflict": conflict, "query": _query(filters), "filters": filters,
                "prev_url": _item_url(prev_item, filters) if prev_item else None,
                "next_url": _item_url(next_item, filters) if next_item else None}

    @app.post("/messages/{message_pk}/kind")
    async def message_kind(request: Request, message_pk: int):
        user = user_of(request)
        form = await form_of(request)
        filters = review_queue.Filters.read(form)
        kind = form.get("kind", "")
        if kind not in fields.KINDS:
            with store.session() as db:
                context = _message_context(db, message_pk, user, filters, conflict="Kies een soort.")
            return page(request, "message.html", 400, **context)
        try:
            with store.session() as db:
                message = db.get(Message, message_pk)
                if message is None:
                    raise NotFound()
                actions.reclassify(db, message, user, kind, form.get("kind_before") or None)
        except actions.Conflict as conflict:
            with store.session() as db:
                context = _message_context(db, message_pk, user, filters, conflict=str(conflict))
            return page(request, "message.html", 409, **context)
        back = form.get("back", "")
        target = back if back.startswith("/offers/") and back[8:].isdigit() else f"/messages/{message_pk}"
        params = {**filters.query(), "done": "kind"}
        return RedirectResponse(f"{target}?{urlencode(params)}", status_code=303)

    @app.post("/messages/{message_pk}/offers")
    async def message_add_offer(request: Request, message_pk: int):
        user = user_of(request)
        form = await form_of(request)
        filters = review_queue.Filters.read(form)
        values, errors = fields.parse_form({"status": "available", **form})
        if errors:
            with store.session() as db:
                context = _message_context(db, message_pk, user, filters, errors=errors,
                                           values={c: form.get(c, "") for c in fields.FIELDS})
            return page(request, "message.html", 400, **context)
        with store.session() as db:
            message = db.get(Message, message_pk)
            if message is None:
                raise NotFound()
            row = actions.add_offer(db, message, user, values)
        params = {**filters.query(), "done": "added"}
        return RedirectResponse(f"/offers/{row.id}?{urlencode(params)}", status_code=303)

    return app


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _query(filters) -> str:
    params = filters.query()
    return "?" + urlencode(params) if params else ""


def serve(config: Config, host: str | None = None, port: int | None = None) -> None:
    """Run the review screen until stopped (behind TLS or a TLS proxy in production)."""
    import uvicorn
    from store import open_store
    app = create_app(config, open_store(config.database.url))
    uvicorn.run(app, host=host or config.review.host, port=port or config.review.port,
                proxy_headers=True, server_header=False, log_level="warning")
