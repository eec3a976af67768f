"""A working-group session end to end in a real Chromium, each page checked with axe-core:
a lead schedules it, builds its agenda and invites the group; an invitee answers from
the e-mail's link without signing in; the lead sees the answer."""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.helpers import outbox_to, path_of
from tests.test_browser_journeys import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Emplois francs : retours des quartiers"
ANSWER_LINK = re.compile(r"https?://\S+/seances/reponse/[^/\s]+/\?reponse=accepted")


def _sign_in(page, live_server, email, password):
    page.goto(live_server.url + "/compte/login/")
    page.get_by_label("Courriel").fill(email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Se connecter").last.click()
    expect(page.get_by_role("heading", name="Mon tableau de bord")).to_be_visible()


def _accepted_link_for(address, timeout=10.0) -> str:
    """The "Participera" link of the invitation e-mail sent to ``address``.

    The live server commits for real: its on-commit hooks run the fan-out task
    (eager in tests) and the outbox's delivery into Django's locmem outbox,
    which the test thread shares. Wait for it rather than assume when."""
    deadline = time.monotonic() + timeout
    while not (messages := outbox_to(address)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(messages) == 1, f"expected one invitation e-mail to {address}, got {len(messages)}"
    match = ANSWER_LINK.search(messages[0].body)
    assert match, "no « Participera » link in the invitation e-mail"
    return path_of(match.group(0))


def test_a_lead_schedules_and_invites_then_an_invitee_answers_from_the_email_link(
    page, browser, live_server, password, lead, group, measure, alice
):
    day = timezone.localdate() + timedelta(days=3)

    # --- The lead schedules the session ------------------------------------------------
    _sign_in(page, live_server, lead.email, password)
    page.goto(f"{live_server.url}/groupes/{group.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(group.title)
    assert_accessible(page)

    page.get_by_role("link", name="Programmer une séance").click()
    expect(page.get_by_role("heading", name="Programmer une séance")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Intitulé").fill(TITLE)
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Heure de début").fill("14:00")
    page.get_by_label("Heure de fin").fill("16:30")
    # DSFR draws its own radio buttons: people click their labels.
    page.locator("label", has_text=re.compile("^En présentiel$")).click()
    expect(page.get_by_role("radio", name="En présentiel")).to_be_checked()
    page.get_by_label("Lieu").fill("ANCT, 20 avenue de Ségur, Paris — salle 4")
    page.get_by_role("button", name="Programmer la séance").click()

    # --- Its agenda: two items, one linked to measure 9 by its number --------------------
    expect(page.get_by_role("heading", name="Ordre du jour", level=1)).to_be_visible()
    expect(page.get_by_text("Séance programmée.")).to_be_visible()
    assert_accessible(page)
    first, second = page.get_by_role("group", name="Nouveau point").all()
    first.get_by_role("textbox", name=re.compile("^Point")).fill("Tour de table des réseaux")
    first.get_by_label("Durée (minutes)").fill("30")
    second.get_by_role("textbox", name=re.compile("^Point")).fill("Premiers retours sur les emplois francs")
    second.get_by_label("Durée (minutes)").fill("45")
    second.get_by_label("Présenté par").fill("Léa Animation")
    second.get_by_label("Mesure concernée").fill("9")
    page.get_by_role("button", name="Enregistrer l'ordre du jour").click()

    # Back on the session's page, which shows the agenda and the linked measure.
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(page.get_by_text("Ordre du jour enregistré.")).to_be_visible()
    agenda = page.get_by_role("list").filter(has_text="Tour de table des réseaux")
    expect(agenda.get_by_role("listitem")).to_have_count(2)
    expect(agenda.get_by_role("listitem").first).to_contain_text("Tour de table des réseaux")
    expect(agenda.get_by_role("listitem").last).to_contain_text("Premiers retours sur les emplois francs")
    expect(agenda.get_by_role("link", name="Mesure 9 : Emplois francs")).to_be_visible()
    expect(page.get_by_text("Personne n'est encore invité.")).to_be_visible()
    assert_accessible(page)

    # --- The invitations: the group, after a confirmation ---------------------------------
    page.get_by_role("link", name="Invitations et réponses").click()
    expect(page.get_by_role("heading", name="Invitations et réponses", level=1)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Inviter le groupe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Inviter le groupe à la séance « {TITLE} »")
    expect(page.get_by_text("1 personne recevra une invitation par courriel")).to_be_visible()
    expect(page.get_by_text("Réseau Alpha (1)")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Envoyer les invitations").click()

    expect(page.get_by_role("heading", name="Invitations et réponses", level=1)).to_be_visible()
    expect(page.get_by_text("Invitations en cours d'envoi.")).to_be_visible()
    invitations_url = page.url
    assert_accessible(page)

    # --- Alice answers from her e-mail, without signing in --------------------------------
    link = _accepted_link_for(alice.email)
    invitee_context = browser.new_context()
    try:
        invitee = invitee_context.new_page()
        invitee.goto(live_server.url + link)
        expect(invitee.get_by_role("heading", name="Répondre à l'invitation")).to_be_visible()
        expect(invitee.get_by_text("Réponse pour Alice Alpha")).to_be_visible()
        expect(invitee.get_by_role("heading", name=TITLE)).to_be_visible()
        expect(invitee.get_by_text("ANCT, 20 avenue de Ségur, Paris — salle 4")).to_be_visible()
        expect(invitee.get_by_text("Premiers retours sur les emplois francs")).to_be_visible()
        # The link she clicked chose "Participera": the form says so, and nothing is recorded yet.
        expect(invitee.get_by_role("radio", name="Je participerai")).to_be_checked()
        expect(invitee.get_by_role("link", name="Se connecter").first).to_be_visible()  # not signed in
        assert_accessible(invitee)
        invitee.get_by_label("Commentaire (facultatif)").fill("J'arriverai vers 14 h 15.")
        invitee.get_by_role("button", name="Enregistrer ma réponse").click()

        expect(invitee.get_by_role("heading", name="Réponse enregistrée")).to_be_visible()
        expect(invitee.get_by_role("status")).to_contain_text("Réponse pour Alice Alpha : Je participerai")
        expect(invitee.get_by_role("status")).to_contain_text("J'arriverai vers 14 h 15.")
        assert_accessible(invitee)
    finally:
        invitee_context.close()

    # --- The lead sees the answer -----------------------------------------------------------
    assert page.url == invitations_url
    page.reload()
    counts = page.get_by_role("table", name="Réponses aux invitations")
    expect(counts.get_by_role("row").last.get_by_role("cell")).to_have_text(["1", "1", "0", "0", "0"])
    people = page.get_by_role("table", name="1 personne")
    alice_row = people.get_by_role("row").filter(has_text="Alice Alpha")
    expect(alice_row.get_by_role("cell").nth(1)).to_have_text("Réseau Alpha")
    expect(alice_row.get_by_role("cell").nth(3)).to_have_text("Participera")
    expect(alice_row.get_by_role("cell").nth(4)).to_have_text("J'arriverai vers 14 h 15.")
    assert_accessible(page)
