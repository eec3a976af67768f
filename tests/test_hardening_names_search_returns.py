"""Issue 9, hardening after a security review: control characters in territory
searches, names kept on one line, the feedback list's way back (cached and
checked), search marks nobody can forge, a quote that follows its text, reports
and PDFs given up only once their last attempt is over, a missing report file,
dates in the minutes' search results."""

import re
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from concertation.lib.search import START, STOP, highlight_words
from measures import reports
from measures.models import RoundReport
from measures.services import FeedbackContent, feedback_update
from measures.tasks import render_round_report
from networks import services as network_services
from networks.imports import ImportRejected
from networks.models import Invitation, Territory, User
from networks.names import name_on_one_line, single_line_name
from networks.tokens import make_invitation_token
from tests.factories import FeedbackFactory, SessionFactory, TerritoryFactory
from workgroups import minutes_services
from workgroups.models import Minutes, MinutesVersion, Session
from workgroups.tasks import render_minutes_pdf

pytestmark = pytest.mark.django_db

NAME_MESSAGE = "Le nom tient sur une ligne, sans caractère de contrôle."
INJECTED = "Nina\r\nCc: pirate@evil.example\r\n\r\nCliquez ici : https://evil.example/"


# --- 1. Control characters in a territory search ------------------------------------------


@pytest.fixture
def seine(db):
    return TerritoryFactory(level="departement", code="93", name="Seine-Saint-Denis")


@pytest.mark.parametrize("q", ["ab\x00", "\x00", "se\x00ine", "93\x01", "seine\x1bs"])
def test_a_search_with_a_control_character_finds_nothing_and_never_fails(client, alice, seine, q):
    client.force_login(alice)
    response = client.get(reverse("networks:territory_search"), {"q": q})
    assert response.status_code == 200
    assert response.json() == {"results": [], "more": False}
    assert list(Territory.objects.search(q)) == []
    assert [t.code for t in Territory.objects.search("seine")] == ["93"]


def test_a_territory_typed_with_a_control_character_is_unknown(client, coordinator_a, network_a, seine):
    client.force_login(coordinator_a)
    response = client.post(
        reverse("networks:invite", args=[network_a.slug]),
        {"email": "nina@ville.example", "full_name": "Nina", "role": "representative", "territory_code": "93\x00"},
    )
    assert response.status_code == 200
    assert "Territoire inconnu : « 93 »" in response.content.decode()
    assert not Invitation.objects.exists()


# --- 2. A person's name on one line -----------------------------------------------------


def test_a_name_is_collapsed_to_one_line_and_control_characters_are_refused():
    assert single_line_name("  Nina   Nouvelle ") == "Nina Nouvelle"
    assert single_line_name("Anne\u00a0Dupont") == "Anne Dupont"
    for bad in (INJECTED, "Nina\nNouvelle", "Nina\x00", "Nina\tNouvelle", "Nina\u2028Nouvelle", "\u202eNina"):
        with pytest.raises(ValidationError) as error:
            single_line_name(bad)
        assert error.value.messages == [NAME_MESSAGE]
    assert name_on_one_line("Nina\r\nNouvelle") == "Nina Nouvelle"


def test_the_invitation_form_refuses_a_name_on_several_lines(client, coordinator_a, network_a):
    client.force_login(coordinator_a)
    response = client.post(
        reverse("networks:invite", args=[network_a.slug]),
        {"email": "nina@ville.example", "full_name": INJECTED, "role": "representative"},
    )
    assert response.status_code == 200
    assert NAME_MESSAGE in response.content.decode()
    assert not Invitation.objects.exists() and not mail.outbox


def test_the_name_typed_in_the_invitation_is_kept_on_one_line(
    client, coordinator_a, network_a, django_capture_on_commit_callbacks
):
    client.force_login(coordinator_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("networks:invite", args=[network_a.slug]),
            {"email": "nina@ville.example", "full_name": " Nina   Nouvelle ", "role": "representative"},
        )
    assert response.status_code == 302
    assert Invitation.objects.get().full_name == "Nina Nouvelle"


def test_the_service_refuses_a_name_on_several_lines(coordinator_a, network_a):
    with pytest.raises(ValidationError, match="tient sur une ligne"):
        network_services.invitation_send(
            inviter=coordinator_a, network=network_a, email="nina@ville.example", role="observer", full_name=INJECTED
        )
    assert not Invitation.objects.exists()


def test_accepting_refuses_a_name_on_several_lines(client, coordinator_a, network_a):
    invitation = network_services.invitation_send(
        inviter=coordinator_a, network=network_a, email="nina@ville.example", role="representative"
    ).invitation
    url = reverse("networks:accept_invitation", args=[make_invitation_token(invitation)])
    response = client.post(
        url, {"full_name": INJECTED, "password1": "quartiers-2030-ok", "password2": "quartiers-2030-ok"}
    )
    assert response.status_code == 200
    assert NAME_MESSAGE in response.content.decode()
    assert not User.objects.filter(email="nina@ville.example").exists()
    with pytest.raises(ValidationError):
        network_services.invitation_accept(
            token=make_invitation_token(invitation), full_name="Nina\nNouvelle", password="quartiers-2030-ok"
        )
    assert not User.objects.filter(email="nina@ville.example").exists()


def test_a_resent_invitation_stored_with_a_broken_name_leaves_on_one_line(
    coordinator_a, network_a, django_capture_on_commit_callbacks
):
    invitation = network_services.invitation_send(
        inviter=coordinator_a, network=network_a, email="nina@ville.example", role="representative"
    ).invitation
    Invitation.objects.filter(pk=invitation.pk).update(full_name="Nina\r\nNouvelle")  # stored before the rule
    invitation.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        network_services.invitation_resend(inviter=coordinator_a, invitation=invitation)
    invitation.refresh_from_db()
    assert invitation.full_name == "Nina Nouvelle"


def test_the_csv_import_refuses_a_name_with_a_control_character(staff, network_a):
    text = (
        "nom;email;reseau;role\n"
        "Nina\x1b[2J;nina@ville.example;alpha;représentant\n"
        "Paul;paul@ville.example;alpha;observateur\n"
    )
    with pytest.raises(ImportRejected) as rejected:
        network_services.invitations_import_csv(inviter=staff, text=text)
    assert [str(error) for error in rejected.value.errors] == [
        "Ligne 2 : le nom tient sur une ligne, sans caractère de contrôle."
    ]
    assert not Invitation.objects.exists()


def test_the_csv_import_page_lists_the_line_of_the_bad_name(client, staff, network_a):
    client.force_login(staff)
    text = "nom;email;reseau;role\nNina\x07;nina@ville.example;alpha;représentant\n"
    response = client.post(
        reverse("admin:networks_invitation_import"),
        {"file": SimpleUploadedFile("personnes.csv", text.encode("utf-8"), "text/csv")},
    )
    assert response.status_code == 200
    assert "Ligne 2 : le nom tient sur une ligne, sans caractère de contrôle." in response.content.decode()
    assert not Invitation.objects.exists()


def test_the_admin_refuses_a_name_on_several_lines_for_a_person_and_an_invitation(agent_client, network_a, alice):
    response = agent_client.post(
        reverse("admin:networks_user_add"),
        {
            "email": "nouvel.agent@anct.example",
            "full_name": "Nouvel\r\nAgent",
            "password1": "mot-de-passe-solide-2026",
            "password2": "mot-de-passe-solide-2026",
            "usable_password": "true",
        },
    )
    assert response.status_code == 200 and NAME_MESSAGE in response.content.decode()
    assert not User.objects.filter(email="nouvel.agent@anct.example").exists()

    response = agent_client.post(
        reverse("admin:networks_invitation_add"),
        {"network": network_a.pk, "email": "depuis.admin@ville.example", "full_name": INJECTED, "role": "observer"},
    )
    assert response.status_code == 200 and NAME_MESSAGE in response.content.decode()
    assert not Invitation.objects.exists() and not mail.outbox

    change = reverse("admin:networks_user_change", args=[alice.pk])
    page = agent_client.get(change)
    assert page.status_code == 200
    data = {
        "email": alice.email,
        "full_name": "Alice\nAlpha",
        "phone": "",
        "is_active": "on",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = agent_client.post(change, data)
    assert response.status_code == 200 and NAME_MESSAGE in response.content.decode()
    alice.refresh_from_db()
    assert alice.full_name == "Alice Alpha"


def test_an_agenda_items_presenter_is_a_name_on_one_line(client, lead, session):
    client.force_login(lead)
    data = {
        "agenda-TOTAL_FORMS": "1",
        "agenda-INITIAL_FORMS": "0",
        "agenda-MIN_NUM_FORMS": "0",
        "agenda-MAX_NUM_FORMS": "50",
        "agenda-0-title": "Bilan",
        "agenda-0-presenter": "Léa\r\nCc: pirate@evil.example",
    }
    response = client.post(reverse("workgroups:agenda_edit", args=[session.pk]), data)
    assert response.status_code == 200
    assert NAME_MESSAGE in response.content.decode()
    assert not session.agenda_items.exists()


# --- 3. The feedback list's way back, from what its cache key covers ---------------------------


def _card_link(feedback, back: str) -> str:
    return f'href="{feedback.get_absolute_url()}?retour={quote(back, safe="")}"'


def test_the_cards_lead_back_to_the_validated_filters_never_to_the_first_visitors_address(
    client, alice, bob, network_a, measure
):
    feedback = FeedbackFactory(network=network_a, author=alice, measure=measure)
    client.force_login(alice)
    first = client.get(
        reverse("measures:feedback_list"), {"network": network_a.pk, "pirate": '"><script>', "utm": "x"}
    ).content.decode()
    expected = f"{reverse('measures:feedback_list')}?network={network_a.pk}"
    assert _card_link(feedback, expected) in first
    assert not [link for link in re.findall(r'\?retour=([^"]*)"', first) if "pirate" in link or "utm" in link]
    client.force_login(bob)  # the same fragment, from the cache
    second = client.get(reverse("measures:feedback_list"), {"network": network_a.pk}).content.decode()
    assert _card_link(feedback, expected) in second
    plain = client.get(reverse("measures:feedback_list"), {"pirate": "1"}).content.decode()
    assert _card_link(feedback, reverse("measures:feedback_list")) in plain


def test_a_card_of_page_two_leads_back_to_page_two(client, alice, network_a, measure):
    now = timezone.now()
    oldest = FeedbackFactory(network=network_a, author=alice, measure=measure, submitted_at=now - timedelta(days=30))
    for days in range(20):
        FeedbackFactory(network=network_a, author=alice, measure=measure, submitted_at=now - timedelta(days=days))
    client.force_login(alice)
    page = client.get(reverse("measures:feedback_list"), {"page": "2", "x": "1"}).content.decode()
    assert _card_link(oldest, f"{reverse('measures:feedback_list')}?page=2") in page
    detail = client.get(oldest.get_absolute_url(), {"retour": "/retours/?page=2"}).content.decode()
    assert 'href="/retours/?page=2">Retour à la liste</a>' in detail


# --- 4. Only the portal's lists as a way back -----------------------------------------------


@pytest.fixture
def submitted(alice, network_a, measure):
    return FeedbackFactory(network=network_a, author=alice, measure=measure)


@pytest.mark.parametrize(
    "retour",
    [
        "/consultations/../admin/",
        "/consultations/%2e%2e/%2e%2e/admin/",
        "/consultations/%2E%2E/admin/",
        "/consultations/..//evil.example/",
        "/consultations/.%2e/evil/",
        "/consultations/%2F%2Fevil.example/",
        "/retours/./",
        "/retours//",
        "/retours/%5cevil.example",
        "/consultations/1/taux.csv",
        "/consultations/999/rapports/",
        "/rapports/1/",
        "/consultations/abc/",
    ],
)
def test_an_address_with_dot_segments_or_outside_the_lists_is_ignored(client, staff, submitted, retour):
    client.force_login(staff)
    page = client.get(submitted.get_absolute_url(), {"retour": retour}).content.decode()
    assert "Retour à la liste" not in page
    assert 'name="retour"' not in page
    response = client.post(
        reverse("measures:feedback_respond", args=[submitted.pk]), {"response": "Merci.", "retour": retour}
    )
    assert response.status_code == 302 and response.url == submitted.get_absolute_url()


def test_each_list_of_the_portal_is_a_way_back(client, staff, submitted, open_round):
    client.force_login(staff)
    for back in (
        "/retours/?round=1&network=2",
        "/synthese/?family=state",
        "/tableau-de-bord/",
        "/consultations/",
        f"/consultations/{open_round.pk}/?tri=-taux",
    ):
        page = client.get(submitted.get_absolute_url(), {"retour": back}).content.decode()
        assert f'href="{back.replace("&", "&amp;")}">Retour à la liste</a>' in page, back


# --- 5. Search marks nobody can forge -------------------------------------------------------


def test_private_use_marks_typed_in_feedback_are_not_highlighted(client, alice, network_a, measure):
    FeedbackFactory(
        network=network_a,
        author=alice,
        measure=measure,
        what_works="",
        obstacles=f"Les élus locaux {START}urgent{STOP} ne sont pas informés.",
    )
    client.force_login(alice)
    body = client.get(reverse("measures:feedback_list"), {"q": "élus"}).content.decode()
    assert "<mark>élus</mark>" in body
    assert "<mark>urgent</mark>" not in body
    assert START not in body and STOP not in body


def test_private_use_marks_typed_in_minutes_are_not_highlighted(client, alice, group):
    starts = timezone.now() - timedelta(days=2)
    session = SessionFactory(
        group=group, title="Séance", starts_at=starts, ends_at=starts + timedelta(hours=2), status=Session.Status.HELD
    )
    body = f"Les élus ont parlé. {START}Approuvé{STOP} par tous."
    minutes = Minutes.objects.create(session=session, body=body)
    MinutesVersion.objects.create(minutes=minutes, number=1, body=body, body_html="<p></p>", snapshot={"items": []})
    client.force_login(alice)
    page = client.get(reverse("search"), {"q": "élus"}).content.decode()
    assert "<mark>élus</mark>" in page
    assert "<mark>Approuvé</mark>" not in page
    assert START not in page and STOP not in page


def test_highlighting_without_full_text_drops_the_marks_too():
    excerpt = highlight_words(f"Les élus {START}faux{STOP} ici", "élus")
    assert excerpt == "Les <mark>élus</mark> faux ici"


# --- 6. A quote follows its text --------------------------------------------------------------


def _content(feedback, **changes) -> FeedbackContent:
    fields = {name: getattr(feedback, name) for name in ("assessment", "what_works", "obstacles", "suggestions")}
    return FeedbackContent(**{**fields, **changes})


def test_editing_a_quoted_text_takes_it_out_of_the_report(client, staff, alice, network_a, measure, open_round):
    feedback = FeedbackFactory(network=network_a, author=alice, measure=measure, round=open_round)
    reports.feedback_quote_set(feedback=feedback, quoted=True, by=staff)
    # Saved again as it is (the assessment changed, not the texts): still quoted.
    feedback_update(actor=alice, feedback=feedback, content=_content(feedback, assessment="partly"), submit=True)
    feedback.refresh_from_db()
    assert feedback.quoted_in_report

    client.force_login(alice)
    response = client.post(
        reverse("measures:feedback_edit", args=[feedback.pk]),
        {"assessment": "works", "what_works": "Un tout autre texte.", "action": "submit"},
    )
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.what_works == "Un tout autre texte." and feedback.quoted_in_report is False
    client.force_login(staff)
    page = client.get(feedback.get_absolute_url()).content.decode()
    assert "Citer dans le rapport" in page and "Ne plus citer dans le rapport" not in page


@pytest.mark.parametrize("field", ["what_works", "obstacles", "suggestions"])
def test_any_of_the_three_texts_changed_unquotes(staff, alice, network_a, measure, open_round, field):
    feedback = FeedbackFactory(network=network_a, author=alice, measure=measure, round=open_round)
    reports.feedback_quote_set(feedback=feedback, quoted=True, by=staff)
    feedback_update(actor=alice, feedback=feedback, content=_content(feedback, **{field: "Changé."}), submit=True)
    feedback.refresh_from_db()
    assert feedback.quoted_in_report is False


# --- 7. Given up once the last attempt is over ------------------------------------------------


def test_a_report_is_given_up_only_after_every_attempt_could_have_run():
    limit = render_round_report.time_limit
    attempts_and_pauses = timedelta(seconds=reports.REPORT_MAX_ATTEMPTS * limit + 30 + 60)
    assert reports._given_up_after() > attempts_and_pauses > timedelta(minutes=10)


def test_a_report_whose_last_attempt_may_still_run_stays_pending(open_round, monkeypatch):
    queued = []
    monkeypatch.setattr(reports, "_queue_render", queued.append)
    now = timezone.now()
    running = RoundReport.objects.create(round=open_round, requested_at=now - timedelta(minutes=15), attempts=3)
    worn_out = RoundReport.objects.create(round=open_round, requested_at=now - timedelta(minutes=30), attempts=3)
    lost = RoundReport.objects.create(round=open_round, requested_at=now - timedelta(minutes=11), attempts=1)
    fresh = RoundReport.objects.create(round=open_round, requested_at=now - timedelta(minutes=5))
    assert reports.round_reports_resume() == 1
    assert queued == [lost.pk]
    for report in (running, worn_out, lost, fresh):
        report.refresh_from_db()
    assert running.status == RoundReport.Status.PENDING and not running.error
    assert (
        worn_out.status == RoundReport.Status.FAILED and worn_out.error == "Le rendu a été interrompu à chaque essai."
    )
    assert lost.status == fresh.status == RoundReport.Status.PENDING


def _version(group, published_at, attempts):
    session = SessionFactory(group=group, status=Session.Status.HELD)
    minutes = Minutes.objects.create(session=session, body="Texte")
    return MinutesVersion.objects.create(
        minutes=minutes,
        number=1,
        body="Texte",
        body_html="<p>Texte</p>",
        snapshot={"items": []},
        published_at=published_at,
        pdf_attempts=attempts,
    )


def test_a_minutes_pdf_whose_last_attempt_may_still_run_stays_pending(group, monkeypatch):
    assert minutes_services._pdf_given_up_after() > timedelta(
        seconds=minutes_services.PDF_MAX_ATTEMPTS * render_minutes_pdf.time_limit + 30 + 60
    )
    queued = []
    monkeypatch.setattr(minutes_services, "_publish_render", queued.append)
    now = timezone.now()
    running = _version(group, now - timedelta(minutes=12), 3)
    worn_out = _version(group, now - timedelta(minutes=20), 3)
    lost = _version(group, now - timedelta(minutes=11), 1)
    assert minutes_services.minutes_pdf_resume() == 1
    assert queued == [lost.pk]
    running.refresh_from_db()
    worn_out.refresh_from_db()
    assert running.pdf_status == MinutesVersion.PdfStatus.PENDING and not running.pdf_error
    assert worn_out.pdf_status == MinutesVersion.PdfStatus.FAILED
    assert worn_out.pdf_error == "Le rendu a été interrompu à chaque essai."


# --- 8. A report whose file is missing -----------------------------------------------------------


def test_a_ready_report_whose_file_is_gone_is_not_found(client, staff, open_round):
    report = RoundReport.objects.create(
        round=open_round, status=RoundReport.Status.READY, file=f"rapports/{open_round.pk}/disparu.pdf"
    )
    client.force_login(staff)
    assert client.get(reverse("measures:round_report_download", args=[report.pk])).status_code == 404


# --- 9. Dates of the minutes' search results ------------------------------------------------------


def test_the_minutes_search_writes_the_first_of_the_month_1er(client, alice, group):
    starts = timezone.make_aware(datetime(2025, 12, 1, 9, 30))
    session = SessionFactory(
        group=group, title="Séance de décembre", starts_at=starts, ends_at=starts + timedelta(hours=2)
    )
    Session.objects.filter(pk=session.pk).update(status=Session.Status.HELD)
    minutes = Minutes.objects.create(session=session, body="Les élus ont parlé.")
    MinutesVersion.objects.create(
        minutes=minutes, number=1, body=minutes.body, body_html="<p></p>", snapshot={"items": []}
    )
    client.force_login(alice)
    page = client.get(reverse("search"), {"q": "élus"}).content.decode()
    assert "1er décembre 2025" in page


# --- Second review: odd queries and drafts behind the quote mark --------------


@pytest.mark.parametrize("q", ["-" * 33, "- " * 40 + "a", "!" * 10 + "-" * 40, '""""', "-"])
def test_queries_made_of_signs_find_nothing_instead_of_failing(client, alice, q):
    for url in (reverse("search"), reverse("workgroups:minutes_list"), reverse("measures:list")):
        assert client.get(url, {"q": q}).status_code == 200, url
    client.force_login(alice)
    for url in (reverse("search"), reverse("measures:feedback_list"), reverse("workgroups:minutes_list")):
        assert client.get(url, {"q": q}).status_code == 200, url


def test_the_quote_mark_does_not_tell_a_draft_exists(agent_client, alice, network_a, measure, open_round):
    from measures.models import Feedback
    from tests.factories import FeedbackFactory

    draft = FeedbackFactory(
        measure=measure, network=network_a, author=alice, round=open_round, status=Feedback.Status.DRAFT
    )
    for quoted in ("0", "1"):
        response = agent_client.post(reverse("measures:feedback_quote", args=[draft.pk]), {"quoted": quoted})
        assert response.status_code == 404
    draft.refresh_from_db()
    assert draft.quoted_in_report is False
