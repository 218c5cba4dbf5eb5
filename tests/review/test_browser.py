"""The review screen in a real headless Chromium against a real server and SQLite store."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from store.schema import AuditEntry, Message, OfferRow
from tests.review.conftest import ARTIFACTS, csrf_of, http_login, login, offer

pytestmark = pytest.mark.chromium

TEXT = ("Beste VNG,\n\nWij bieden per 14 maart 40 plekken in Sporthal De Vliet, tot 30 september.\n"
        "Contactpersoon is Jan de Vries.\n")


def _audit(server, offer_id):
    with server.store.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.entity == "offer",
                                                             AuditEntry.entity_id == offer_id)))


def _row(server, offer_id) -> OfferRow:
    with server.store.session() as session:
        return session.get(OfferRow, offer_id)


def test_page_without_login_redirects_to_login(server, page):
    page.goto(server.url + "/")
    assert page.url == server.url + "/login"
    page.goto(server.url + "/offers/1")
    assert page.url == server.url + "/login"
    assert page.locator("h1").inner_text() == "Inloggen"


def test_wrong_password_is_refused_in_dutch(server, page):
    page.goto(server.url + "/login")
    page.fill("input[name=username]", "anna")
    page.fill("input[name=password]", "niet-het-wachtwoord")
    page.click("button[type=submit]")
    assert "klopt niet" in page.locator("p.error").inner_text()
    page.goto(server.url + "/")
    assert page.url == server.url + "/login"


def test_correct_a_field_then_approve_with_keyboard(server, page):
    _, (uncertain,) = server.seed(TEXT, [offer("Sporthal De Vliet", 40, 0.3, TEXT)])
    _, (surer,) = server.seed("Wij bieden 25 plekken in Hotel Noord.", [offer("Hotel Noord", 25, 0.6)],
                              subject="Hotel")
    login(page, server)
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).get_attribute("data-key") == f"offer-{uncertain}"   # least confident first
    assert "2" in page.locator("a.count.current").inner_text()

    rows.nth(0).locator("a").click()
    page.wait_for_url(f"**/offers/{uncertain}")
    assert page.locator("mark[data-fields=places]").inner_text() == "40 plekken"
    assert page.locator("mark[data-fields=location]").inner_text() == "Sporthal De Vliet"
    assert "uncertain" in page.locator(".field:has(#places)").get_attribute("class")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)

    page.fill("#places", "45")
    page.locator("h1").click()            # leave the field: shortcuts do not fire while typing
    page.keyboard.press("a")
    page.wait_for_url(f"**/offers/{surer}?done=corrected")
    assert _row(server, uncertain).review_state == "corrected"
    assert _row(server, uncertain).places == 45
    changes = [(a.actor, a.field, a.old, a.new) for a in _audit(server, uncertain)]
    assert ("anna", "places", "40", "45") in changes
    assert ("anna", "review_state", "pending", "corrected") in changes

    page.keyboard.press("a")                # the next one, unchanged: approved
    page.wait_for_url(f"{server.url}/?done=approved")
    assert _row(server, surer).review_state == "approved"
    assert _row(server, surer).reviewed_by == "anna"
    assert page.locator("table.queue").count() == 0         # both left the queue
    assert "Niets te doen" in page.locator("p.empty").inner_text()

    page.goto(f"{server.url}/offers/{uncertain}")
    assert "door anna" in page.locator("#review-state").inner_text()
    history = page.locator(".history tbody").inner_text()
    assert "Aantal plekken" in history and "45" in history


def test_keys_do_nothing_while_typing_and_j_k_browse(server, page):
    _, (first,) = server.seed(TEXT, [offer("Sporthal De Vliet", 40, 0.2, TEXT)])
    _, (second,) = server.seed("Wij bieden 25 plekken.", [offer("Hotel Noord", 25, 0.5)])
    login(page, server)
    page.goto(f"{server.url}/offers/{first}")
    page.click("#location")
    page.keyboard.press("a")
    page.keyboard.press("j")
    assert page.url.endswith(f"/offers/{first}")
    assert _row(server, first).review_state == "pending"
    page.locator("h1").click()
    page.keyboard.press("j")
    page.wait_for_url(f"**/offers/{second}")
    page.keyboard.press("k")
    page.wait_for_url(f"**/offers/{first}")


def test_script_in_message_shows_as_text(server, page):
    hostile = ("Hallo <script>alert('xss')</script> wij bieden 30 plekken in "
               "<img src=x onerror=alert(2)> De Kerk.")
    _, (offer_id,) = server.seed(hostile, [offer("<img src=x onerror=alert(2)>", 30, 0.4, hostile)],
                                 subject="<script>alert(3)</script>", from_name="<b>Evil</b>",
                                 quoted="> <script>alert(4)</script>")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    login(page, server)
    assert "<script>alert(3)</script>" in page.locator("table.queue").inner_text()
    page.goto(f"{server.url}/offers/{offer_id}")
    assert "<script>alert('xss')</script>" in page.locator("#new-text").inner_text()
    assert page.locator("mark[data-fields=location]").inner_text() == "<img src=x onerror=alert(2)>"
    assert page.locator("#location").input_value() == "<img src=x onerror=alert(2)>"
    page.locator("summary", has_text="Geciteerde tekst").click()
    assert "<script>alert(4)</script>" in page.locator("details pre").first.inner_text()
    assert page.evaluate("document.querySelectorAll('main script, main img, main b').length") == 0
    page.wait_for_timeout(300)
    assert dialogs == []


def test_post_without_csrf_token_is_refused(server):
    _, (offer_id,) = server.seed(TEXT, [offer("Sporthal De Vliet", 40, 0.3, TEXT)])
    client = http_login(server)
    try:
        page = client.get(f"/offers/{offer_id}")
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        version = _row(server, offer_id).version
        form = {"action": "approve", "version": str(version), "municipality": "Utrecht", "places": "99",
                "status": "available"}
        missing = client.post(f"/offers/{offer_id}", data=form)
        assert missing.status_code == 403
        assert "Laad de pagina opnieuw" in missing.text
        wrong = client.post(f"/offers/{offer_id}", data={**form, "csrf": "verzonnen"})
        assert wrong.status_code == 403
        assert _row(server, offer_id).review_state == "pending"
        assert _row(server, offer_id).places == 40
        right = client.post(f"/offers/{offer_id}", data={**form, "csrf": csrf_of(page.text)})
        assert right.status_code == 303
        assert _row(server, offer_id).places == 99
    finally:
        client.close()
    anonymous = httpx.post(server.url + "/login",
                                                     data={"username": "anna", "password": "x"})
    assert anonymous.status_code == 403


def test_session_cookie_flags(server):
    client = http_login(server)
    cookie = client.get("/").headers.get("set-cookie") or ""
    client.close()
    first = httpx.get(server.url + "/login")
    header = first.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=lax" in header
    assert "secure" not in header          # plain HTTP on loopback; Secure is set behind TLS
    assert cookie == "" or "httponly" in cookie.lower()


def test_someone_elses_newer_save_is_not_overwritten(server, browser):
    _, (offer_id,) = server.seed(TEXT, [offer("Sporthal De Vliet", 40, 0.3, TEXT)])
    anna_context, bram_context = browser.new_context(), browser.new_context()
    try:
        anna, bram = anna_context.new_page(), bram_context.new_page()
        login(anna, server, "anna")
        login(bram, server, "bram")
        anna.goto(f"{server.url}/offers/{offer_id}")
        bram.goto(f"{server.url}/offers/{offer_id}")
        assert "Wordt bewerkt door anna" in bram.locator("p.lock").inner_text()

        anna.fill("#places", "45")
        anna.click("#approve")
        anna.wait_for_url("**/?done=corrected")

        bram.fill("#location", "Sporthal De Vliet (zaal 2)")
        bram.click("#approve")
        assert "intussen gewijzigd door anna" in bram.locator("#conflict").inner_text()
        assert "Sporthal De Vliet (zaal 2)" in bram.locator("details").first.inner_text()
        assert bram.locator("#places").input_value() == "45"        # the fresh data is shown
        row = _row(server, offer_id)
        assert (row.places, row.location, row.reviewed_by) == (45, "Sporthal De Vliet", "anna")
        assert not any(a.actor == "bram" for a in _audit(server, offer_id))
    finally:
        anna_context.close()
        bram_context.close()


def test_failed_message_is_reviewed_by_reclassifying(server, page):
    pk, _ = server.seed("Wat onleesbaars", [], kind="other", state="failed",
                        error="ValueError: kapotte MIME\nTraceback ...")
    login(page, server)
    assert "kon niet worden verwerkt" in page.locator("table.queue").inner_text()    # Dutch, not the error
    page.locator("table.queue a").first.click()
    page.wait_for_url(f"**/messages/{pk}")
    assert "kapotte MIME" in page.locator("#problems details").text_content()        # technical detail kept
    page.select_option("select[name=kind]", "auto_reply")
    page.click("text=Soort opslaan")
    page.wait_for_url("**done=kind")
    with server.store.session() as session:
        message = session.get(Message, pk)
        assert (message.kind, message.kind_reviewed_by, message.state) == ("auto_reply", "anna", "extracted")
        assert session.scalars(select(AuditEntry).where(AuditEntry.entity == "message",
                                                        AuditEntry.field == "kind")).one().old == "other"
    page.goto(server.url + "/")
    assert page.locator("table.queue").count() == 0


def test_add_missed_offer_and_split_merged_one(server, page):
    pk, (merged,) = server.seed(TEXT, [offer("Sporthal De Vliet en Hotel Noord", 80, 0.4)])
    login(page, server)
    page.goto(f"{server.url}/offers/{merged}")
    page.click("text=Splitsen in twee")
    page.wait_for_url("**done=split")
    with server.store.session() as session:
        rows = list(session.scalars(select(OfferRow).where(OfferRow.message_pk == pk).order_by(OfferRow.id)))
    assert [r.review_state for r in rows] == ["pending", "pending"]
    assert rows[1].location == rows[0].location

    page.locator("summary", has_text="Aanbod toevoegen").click()
    page.fill("#new-municipality", "den haag")
    page.fill("#new-location", "Kazerne Zuid")
    page.fill("#new-places", "veel")
    page.click("details.add button[type=submit]")
    assert "heel getal" in page.locator("details.add .error").inner_text()
    page.fill("#new-places", "60")
    page.click("details.add button[type=submit]")
    page.wait_for_url("**done=added")
    with server.store.session() as session:
        added = session.scalars(select(OfferRow).where(OfferRow.location == "Kazerne Zuid")).one()
        assert (added.municipality, added.municipality_code, added.places) == ("'s-Gravenhage", "GM0518", 60)
        assert (added.review_state, added.reviewed_by) == ("corrected", "anna")
        assert added.location_id is not None


def test_a_message_read_with_problems_is_listed_with_its_dutch_reason(server, page):
    reason = "De bijlage 'locaties.docx' is niet gelezen: uitgepakt groter dan 50 MB."
    pk, _ = server.seed("Zie de bijlage.", [], kind="other",
                        problems=[{"code": "attachment_refused", "text": reason}])
    server.seed("Gewoon een vraag.", [], kind="other", subject="Vraag zonder problemen")
    login(page, server)
    page.goto(f"{server.url}/?state=problems")
    listed = page.locator("table.queue").inner_text()
    assert reason in listed and "gelezen, met problemen" in listed
    assert "Vraag zonder problemen" not in listed
    assert "1 met problemen" in " ".join(page.locator("nav.counts").inner_text().split())
    page.locator("table.queue a").first.click()
    page.wait_for_url(f"**/messages/{pk}**")
    assert reason in page.locator("#problems").inner_text()
    assert "Niet alles kon worden gelezen" in page.locator("#problems").inner_text()
