"""Minutes in the admin, as a plain agent (staff in the Agents group) reads them:
versions and their PDF, running a PDF again, action items' states; nothing
published is changed nor deleted here."""

import hashlib

import pytest
import rules
from django.contrib import admin
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory
from tests.test_agents_group import form_data
from workgroups import minutes_services
from workgroups.models import ActionItem, Minutes, MinutesVersion, WorkingGroup

pytestmark = pytest.mark.django_db

DECISION = "Étendre les emplois francs à tous les quartiers prioritaires"
ACTION = "Recenser les freins rencontrés par les employeurs"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def version(held, lead, alice, measure, django_capture_on_commit_callbacks):
    """Version 1 of ``held``'s minutes, its PDF rendered and sent: a decision on
    ``measure``, an action owned by alice."""
    minutes = minutes_services.minutes_for(held)
    minutes_services.minutes_save(
        minutes=minutes,
        by=lead,
        body="## Points\n\nLes **emplois francs** avancent.",
        items=[
            {"kind": "decision", "text": DECISION, "measure": measure},
            {"kind": "action", "text": ACTION, "owner_user": alice, "due_on": timezone.localdate()},
        ],
        revision=minutes.revision,
    )
    with django_capture_on_commit_callbacks(execute=True):
        version = minutes_services.minutes_publish(minutes=minutes, by=lead)
    version.refresh_from_db()
    assert version.pdf_status == MinutesVersion.PdfStatus.READY
    return version


def _page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# --- Versions ----------------------------------------------------------------------------


def test_an_agent_lists_the_versions_filters_and_searches_them(agent_client, version, held):
    url = reverse("admin:workgroups_minutesversion_changelist")
    page = _page(agent_client, url)
    pdf_url = reverse("admin:workgroups_minutesversion_pdf", args=[version.pk])
    assert held.title in page and held.group.title in page and "Prêt" in page and pdf_url in page
    assert held.title in _page(agent_client, f"{url}?pdf_status__exact=ready")
    assert held.title not in _page(agent_client, f"{url}?pdf_status__exact=failed")
    assert held.title in _page(agent_client, f"{url}?minutes__session__group__id__exact={held.group.pk}")
    assert held.title in _page(agent_client, f"{url}?q=premiers+retours")
    assert held.title not in _page(agent_client, f"{url}?q=logement")


def test_an_agent_opens_a_version_and_downloads_its_pdf(agent_client, version):
    page = _page(agent_client, reverse("admin:workgroups_minutesversion_change", args=[version.pk]))
    assert "Les **emplois francs** avancent." in page and version.pdf_sha256 in page
    assert version.get_absolute_url() in page  # the version's page in the portal
    response = agent_client.get(reverse("admin:workgroups_minutesversion_pdf", args=[version.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"] and {"private", "no-store"} <= set(
        response["Cache-Control"].replace(",", " ").split()
    )
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == version.pdf_sha256


def test_a_failed_pdf_shows_its_reason_and_no_download(agent_client, version):
    MinutesVersion.objects.filter(pk=version.pk).update(
        pdf_status=MinutesVersion.PdfStatus.FAILED, pdf_error="RefusedResource: refused: https://ailleurs.example/"
    )
    pdf_url = reverse("admin:workgroups_minutesversion_pdf", args=[version.pk])
    page = _page(agent_client, reverse("admin:workgroups_minutesversion_change", args=[version.pk]))
    assert "RefusedResource: refused: https://ailleurs.example/" in page and "Échec" in page
    assert pdf_url not in page
    assert agent_client.get(pdf_url).status_code == 404


def test_the_rerun_action_makes_the_pdf_again_without_sending_it_twice(
    agent_client, version, django_capture_on_commit_callbacks
):
    sent = len(mail.outbox)
    MinutesVersion.objects.filter(pk=version.pk).update(
        pdf_status=MinutesVersion.PdfStatus.FAILED, pdf_error="OSError: disque plein", pdf_attempts=3
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            reverse("admin:workgroups_minutesversion_changelist"),
            {"action": "rerun_pdf", "_selected_action": [version.pk]},
            follow=True,
        )
    assert "Le PDF de 1 version est refait" in response.content.decode()
    version.refresh_from_db()
    assert version.pdf_status == MinutesVersion.PdfStatus.READY and version.pdf_error == ""
    assert version.pdf_attempts == 1
    assert hashlib.sha256(version.pdf.read()).hexdigest() == version.pdf_sha256
    assert len(mail.outbox) == sent  # the participants received it already


def test_the_rerun_action_asks_the_staff_rule(agent_client, staff, alice, version):
    model_admin = admin.site._registry[MinutesVersion]
    assert model_admin.rerun_pdf.allowed_permissions == ["rerun"]
    request = RequestFactory().get("/")
    request.user, allowed = alice, model_admin.has_rerun_permission
    assert not allowed(request)
    request.user = staff
    assert allowed(request)
    url = reverse("admin:workgroups_minutesversion_changelist")
    assert "rerun_pdf" in dict(agent_client.get(url).context["action_form"].fields["action"].choices)
    # Were the rule to refuse agents, the admin would neither offer nor run the action.
    rule = rules.permissions.permissions["workgroups.rerun_minutes_pdf"]
    rules.set_perm("workgroups.rerun_minutes_pdf", rules.always_false)
    try:
        assert not allowed(request)
        assert agent_client.get(url).context.get("action_form") is None
        agent_client.post(url, {"action": "rerun_pdf", "_selected_action": [version.pk]})
    finally:
        rules.set_perm("workgroups.rerun_minutes_pdf", rule)
    assert MinutesVersion.objects.get(pk=version.pk).pdf_status == MinutesVersion.PdfStatus.READY
    assert allowed(request)


def test_agents_cannot_add_change_nor_delete_versions_or_minutes(agent_client, version):
    minutes = version.minutes
    for model, obj in (("minutesversion", version), ("minutes", minutes)):
        changelist = agent_client.get(reverse(f"admin:workgroups_{model}_changelist"))
        actions = (
            dict(changelist.context["action_form"].fields["action"].choices)
            if changelist.context.get("action_form")
            else {}
        )
        assert "delete_selected" not in actions
        assert agent_client.get(reverse(f"admin:workgroups_{model}_add")).status_code == 403
        assert (
            agent_client.post(reverse(f"admin:workgroups_{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code
            == 403
        )
        change = reverse(f"admin:workgroups_{model}_change", args=[obj.pk])
        assert agent_client.post(change, {"body": "Texte réécrit"}).status_code == 403
    assert MinutesVersion.objects.filter(pk=version.pk, body="## Points\n\nLes **emplois francs** avancent.").exists()
    assert Minutes.objects.filter(pk=minutes.pk).exists()


def test_an_agent_reads_the_minutes_with_their_versions_and_items(agent_client, version, held):
    page = _page(agent_client, reverse("admin:workgroups_minutes_change", args=[version.minutes.pk]))
    assert "Version 1" in page and reverse("admin:workgroups_minutesversion_change", args=[version.pk]) in page
    assert DECISION in page and ACTION in page
    item = ActionItem.objects.get(text=ACTION)
    assert reverse("admin:workgroups_actionitem_change", args=[item.pk]) in page
    assert held.title in _page(agent_client, reverse("admin:workgroups_minutes_changelist"))


def test_staff_outside_the_agents_group_see_no_minutes(client, version):
    client.force_login(UserFactory(email="stagiaire@anct.example", is_staff=True))
    for model in ("minutes", "minutesversion", "actionitem"):
        assert client.get(reverse(f"admin:workgroups_{model}_changelist")).status_code == 403


# --- Action items ------------------------------------------------------------------------------


def test_an_agent_changes_an_items_state_through_the_service(agent_client, staff, version, monkeypatch):
    item = ActionItem.objects.get(text=ACTION)
    calls = []
    service = minutes_services.action_item_set_status

    def spy(**kwargs):
        calls.append(kwargs)
        return service(**kwargs)

    monkeypatch.setattr(minutes_services, "action_item_set_status", spy)
    url = reverse("admin:workgroups_actionitem_change", args=[item.pk])
    data = {**form_data(agent_client.get(url)), "status": "done", "text": "Texte réécrit"}
    response = agent_client.post(url, data)
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == ActionItem.Status.DONE and item.done_at is not None
    assert item.text == ACTION  # the text is the minutes', not the admin's
    assert [call["by"] for call in calls] == [staff] and calls[0]["status"] == "done"
    agent_client.post(url, {**data, "status": "open"})
    item.refresh_from_db()
    assert item.status == ActionItem.Status.OPEN and item.done_at is None


def test_an_agent_lists_items_by_state_and_kind_but_neither_adds_nor_deletes(agent_client, version, held, alice):
    url = reverse("admin:workgroups_actionitem_changelist")
    page = _page(agent_client, url)
    assert DECISION in page and ACTION in page and alice.full_name in page and held.title in page
    assert ACTION not in _page(agent_client, f"{url}?kind__exact=decision")
    assert DECISION not in _page(agent_client, f"{url}?status__exact=done")
    item = ActionItem.objects.get(text=ACTION)
    assert agent_client.get(reverse("admin:workgroups_actionitem_add")).status_code == 403
    delete = reverse("admin:workgroups_actionitem_delete", args=[item.pk])
    assert agent_client.post(delete, {"post": "yes"}).status_code == 403
    assert ActionItem.objects.filter(pk=item.pk).exists()


# --- Groups ------------------------------------------------------------------------------------


def test_an_agent_makes_a_groups_minutes_public(agent_client, group):
    url = reverse("admin:workgroups_workinggroup_change", args=[group.pk])
    data = form_data(agent_client.get(url))
    assert "minutes_public" not in data
    assert agent_client.post(url, {**data, "minutes_public": "on"}).status_code == 302
    assert WorkingGroup.objects.get(pk=group.pk).minutes_public
