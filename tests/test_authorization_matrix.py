"""The authorization matrix: every URL of the portal, requested by every kind of
person, against a table kept here.

The list of URLs comes from the resolver, so a new view without a row in
``EXPECTED`` fails ``test_every_url_has_a_row`` (and a row whose URL is gone
fails it too). ``test_authorization_matrix`` requests each URL once per role
with real objects (two networks, two groups, a session with published minutes,
an open and a closed round with its report, feedback of network A, invitations,
signed links made by the project's own token helpers) and lists every status
that differs from the table before failing.

What is left out, and why:
- Django's admin generates five URLs per model, all guarded by the same
  ``admin_view`` and model permissions: only the index, the sign-in and
  sign-out pages, a handful of changelists (what agents may and may not see)
  and the portal's own admin views (imports, a minutes PDF) are in the table
  (``ADMIN_COVERED``). The admin's unnamed redirects (``<id>/`` to
  ``<id>/change/`` and its catch-all) are left out too; the portal's own
  unnamed ``admin/login/`` is in the table under its route.
- allauth's and the language switcher's URLs are all in the table: they are
  few, and signing up or confirming an address must stay closed.
- ``account_email`` is named twice (the portal's redirect shadows allauth's
  page at the same address): one row, for the address both resolve to.

Statuses are those of a GET; POST-only views answer 405. ``"login"`` is a 302
to the sign-in page, other redirects are ``302``. ``MATRIX_DUMP=1 pytest -s``
prints the statuses the portal gives now, in the table's format, to review a
change row by row.
"""

import os
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from measures.models import Feedback, RoundReport
from networks.models import Invitation, Membership
from networks.tokens import make_invitation_token
from tests.factories import (
    FeedbackFactory,
    MembershipFactory,
    RoundFactory,
    SessionFactory,
    UserFactory,
)
from workgroups.models import ActionItem, CalendarFeed, Minutes, MinutesVersion, Session, SessionInvitation
from workgroups.tokens import make_answer_token

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "outsider", "alice", "bob", "coordinator_a", "lead", "staff", "superuser")

# Admin URLs kept in the matrix; the admin's other generated URLs follow the same gate.
ADMIN_COVERED = {
    "admin:index",
    "admin:login",
    "admin:logout",
    "admin:networks_user_changelist",
    "admin:auth_group_changelist",
    "admin:socialaccount_socialaccount_changelist",
    "admin:networks_invitation_changelist",
    "admin:networks_invitation_import",
    "admin:measures_measure_import",
    "admin:measures_consultationround_changelist",
    "admin:measures_feedback_changelist",
    "admin:measures_feedback_change",
    "admin:workgroups_session_changelist",
    "admin:workgroups_minutesversion_pdf",
    "admin:journal",
    "admin:journal_export",
    "admin:journal_record",
    "admin:measures_feedback_history",
}
UNNAMED_COVERED = {"admin/login/"}


def _row(statuses: str) -> dict:
    """``"login 403 200 …"`` in the order of ``ROLES`` → {role: status}."""
    values = statuses.split()
    assert len(values) == len(ROLES), statuses
    return {role: value if value == "login" else int(value) for role, value in zip(ROLES, values, strict=True)}


# Keys are URL names; ``name|variant`` requests the same URL with another object.
# fmt: off
EXPECTED = {
    # columns: anonymous, outsider, alice (A), bob (B), coordinator_a, lead, staff (agent), superuser
    "home":                                           _row("200 200 200 200 200 200 200 200"),
    "dashboard":                                      _row("login 200 200 200 200 200 200 200"),
    "healthz":                                        _row("200 200 200 200 200 200 200 200"),
    "search":                                         _row("200 200 200 200 200 200 200 200"),
    "legal_notice":                                   _row("200 200 200 200 200 200 200 200"),
    "personal_data":                                  _row("200 200 200 200 200 200 200 200"),
    "accessibility":                                  _row("200 200 200 200 200 200 200 200"),
    "sitemap":                                        _row("200 200 200 200 200 200 200 200"),
    "admin/login/":                                   _row("login 403 403 403 403 403 login login"),
    "account_email":                                  _row("302 302 302 302 302 302 302 302"),
    "account_login":                                  _row("200 302 302 302 302 302 302 302"),
    "account_logout":                                 _row("302 200 200 200 200 200 200 200"),
    "account_inactive":                               _row("200 200 200 200 200 200 200 200"),
    "account_signup":                                 _row("200 302 302 302 302 302 302 302"),
    "account_reauthenticate":                         _row("login 200 200 200 200 200 200 200"),
    "account_email_verification_sent":                _row("200 200 200 200 200 200 200 200"),
    "account_change_password":                        _row("login 200 200 200 200 200 200 200"),
    "account_set_password":                           _row("login 302 302 302 302 302 302 302"),
    "account_reset_password":                         _row("200 200 200 200 200 200 200 200"),
    "account_confirm_login_code":                     _row("login 302 302 302 302 302 302 302"),
    "account_confirm_email":                          _row("200 200 200 200 200 200 200 200"),
    "account_reset_password_from_key_done":           _row("200 200 200 200 200 200 200 200"),
    "account_reset_password_from_key":                _row("200 200 200 200 200 200 200 200"),
    "account_reset_password_done":                    _row("200 200 200 200 200 200 200 200"),
    # allauth's social accounts serve ProConnect only, off by default (its pages answer 404): the
    # connections page is the portal's redirect, sign-up closed, the legacy addresses redirect.
    "socialaccount_connections":                      _row("302 302 302 302 302 302 302 302"),
    "socialaccount_signup":                           _row("login login login login login login login login"),
    "socialaccount_login_cancelled":                  _row("200 200 200 200 200 200 200 200"),
    "socialaccount_login_error":                      _row("401 401 401 401 401 401 401 401"),
    "compte/social/connections/":                     _row("301 301 301 301 301 301 301 301"),
    "compte/social/signup/":                          _row("301 301 301 301 301 301 301 301"),
    "compte/social/login/cancelled/":                 _row("301 301 301 301 301 301 301 301"),
    "compte/social/login/error/":                     _row("301 301 301 301 301 301 301 301"),
    "proconnect_login":                               _row("404 404 404 404 404 404 404 404"),
    "proconnect_callback":                            _row("404 404 404 404 404 404 404 404"),
    "proconnect_end_session":                         _row("404 404 404 404 404 404 404 404"),
    "set_language":                                   _row("302 302 302 302 302 302 302 302"),
    # The second factor's pages (networks.mfa): staff and superuser are enrolled, members have none.
    # Sensitive ones first ask to confirm one's identity (302); a member's missing app or codes are 404;
    # the sign-in's second step sends back to the sign-in, or to the dashboard once signed in.
    "mfa_index":                                      _row("login 200 200 200 200 200 200 200"),
    "mfa_authenticate":                               _row("login 302 302 302 302 302 302 302"),
    "mfa_reauthenticate":                             _row("login 302 302 302 302 302 200 200"),
    "mfa_activate_totp":                              _row("login 302 302 302 302 302 302 302"),
    "mfa_deactivate_totp":                            _row("login 404 404 404 404 404 302 302"),
    "mfa_view_recovery_codes":                        _row("login 404 404 404 404 404 302 302"),
    "mfa_generate_recovery_codes":                    _row("login 302 302 302 302 302 302 302"),
    "mfa_download_recovery_codes":                    _row("login 404 404 404 404 404 302 302"),
    "networks:list":                                  _row("200 200 200 200 200 200 200 200"),
    "networks:detail":                                _row("200 200 200 200 200 200 200 200"),
    "networks:detail|other":                          _row("200 200 200 200 200 200 200 200"),
    "networks:invite":                                _row("login 403 403 403 200 403 200 200"),
    "networks:deactivate_member":                     _row("login 403 403 403 200 403 200 200"),
    "networks:resend_invitation":                     _row("login 405 405 405 405 405 405 405"),
    "networks:cancel_invitation":                     _row("login 403 403 403 200 403 200 200"),
    # Signed in as anyone but the invited address: "sign out first" (403).
    "networks:accept_invitation":                     _row("200 403 403 403 403 403 403 403"),
    "networks:territory_search":                      _row("login 403 200 200 200 403 200 200"),
    "networks:my_data":                               _row("login 200 200 200 200 200 200 200"),
    "networks:my_data_json":                          _row("login 200 200 200 200 200 200 200"),
    "measures:list":                                  _row("200 200 200 200 200 200 200 200"),
    "measures:detail":                                _row("200 200 200 200 200 200 200 200"),
    "measures:feedback_create":                       _row("login 403 200 200 200 403 403 403"),
    "measures:feedback_list":                         _row("login 403 200 200 200 403 200 200"),
    "measures:feedback_export":                       _row("login 403 200 200 200 403 200 200"),
    "measures:feedback_detail":                       _row("login 403 200 200 200 403 200 200"),
    # A draft is its author's only, for the superuser too (404 to everyone else inside).
    "measures:feedback_detail|draft":                 _row("login 403 200 404 404 403 404 404"),
    "measures:feedback_edit":                         _row("login 403 200 403 403 403 403 403"),
    "measures:feedback_edit|draft":                   _row("login 403 200 404 404 403 404 404"),
    "measures:feedback_withdraw":                     _row("login 403 200 403 403 403 403 403"),
    "measures:feedback_respond":                      _row("login 403 405 405 405 403 405 405"),
    "measures:synthesis":                             _row("login 403 200 200 200 403 200 200"),
    "measures:round_list":                            _row("login 403 200 200 200 403 200 200"),
    "measures:round_detail":                          _row("login 403 200 200 200 403 200 200"),
    "measures:round_detail|closed":                   _row("login 403 200 200 200 403 200 200"),
    "measures:round_rates_export":                    _row("login 403 403 403 403 403 200 200"),
    "measures:round_measure_rates_export":            _row("login 403 403 403 403 403 200 200"),
    "measures:round_report_create":                   _row("login 403 405 405 405 403 405 405"),
    "measures:round_report_download":                 _row("login 403 403 403 403 403 200 200"),
    "measures:feedback_quote":                        _row("login 403 405 405 405 403 405 405"),
    "workgroups:group_list":                          _row("login 403 200 200 200 200 200 200"),
    "workgroups:attendance_by_network":               _row("login 403 403 403 403 403 200 200"),
    "workgroups:group_detail":                        _row("login 403 200 200 200 200 200 200"),
    # Groups, sessions announced and published minutes are read by every member
    # (``workgroups.read_groups``), not only by the group's networks.
    "workgroups:group_detail|other":                  _row("login 403 200 200 200 200 200 200"),
    "workgroups:delegates_edit":                      _row("login 403 403 403 200 403 200 200"),
    "workgroups:session_create":                      _row("login 403 403 403 403 200 200 200"),
    "workgroups:session_detail":                      _row("login 403 200 200 200 200 200 200"),
    "workgroups:session_detail|draft":                _row("login 403 404 404 404 200 200 200"),
    "workgroups:session_detail|other":                _row("login 403 404 404 404 404 200 200"),
    "workgroups:session_edit":                        _row("login 403 403 403 403 200 200 200"),
    "workgroups:agenda_edit":                         _row("login 403 403 403 403 200 200 200"),
    "workgroups:session_invitations":                 _row("login 403 403 403 403 200 200 200"),
    "workgroups:invite_group":                        _row("login 403 403 403 403 200 200 200"),
    "workgroups:invitation_withdraw":                 _row("login 403 403 403 403 200 200 200"),
    "workgroups:session_cancel":                      _row("login 403 403 403 403 200 200 200"),
    "workgroups:attendance_edit":                     _row("login 403 403 403 403 200 200 200"),
    "workgroups:session_list":                        _row("login 403 200 200 200 200 200 200"),
    "workgroups:answer_in_portal":                    _row("login 403 405 405 405 405 405 405"),
    "workgroups:session_ics":                         _row("login 403 200 403 403 200 200 200"),
    "workgroups:answer_by_link":                      _row("200 200 200 200 200 200 200 200"),
    "workgroups:calendar_settings":                   _row("login 403 200 200 200 200 200 200"),
    "workgroups:calendar_feed":                       _row("200 200 200 200 200 200 200 200"),
    "workgroups:minutes_edit":                        _row("login 403 403 403 403 200 200 200"),
    "workgroups:minutes_preview":                     _row("login 403 403 403 403 200 200 200"),
    "workgroups:minutes_publish":                     _row("login 403 403 403 403 200 200 200"),
    "workgroups:minutes_version":                     _row("login 403 200 200 200 200 200 200"),
    "workgroups:minutes_pdf":                         _row("login 403 200 200 200 200 200 200"),
    "workgroups:minutes_list":                        _row("200 200 200 200 200 200 200 200"),
    "workgroups:action_item_status":                  _row("login 405 405 405 405 405 405 405"),
    "admin:index":                                    _row("302 302 302 302 302 302 200 200"),
    "admin:login":                                    _row("login 403 403 403 403 403 login login"),
    "admin:logout":                                   _row("302 302 302 302 302 302 405 405"),
    "admin:networks_user_changelist":                 _row("302 302 302 302 302 302 200 200"),
    "admin:auth_group_changelist":                    _row("302 302 302 302 302 302 403 200"),
    # Links between ProConnect identities and accounts: the superuser's to read, not the agents'.
    "admin:socialaccount_socialaccount_changelist":   _row("302 302 302 302 302 302 403 200"),
    "admin:networks_invitation_changelist":           _row("302 302 302 302 302 302 200 200"),
    "admin:networks_invitation_import":               _row("302 302 302 302 302 302 200 200"),
    "admin:measures_measure_import":                  _row("302 302 302 302 302 302 200 200"),
    "admin:measures_consultationround_changelist":    _row("302 302 302 302 302 302 200 200"),
    "admin:measures_feedback_changelist":             _row("302 302 302 302 302 302 200 200"),
    "admin:measures_feedback_change":                 _row("302 302 302 302 302 302 200 200"),
    "admin:workgroups_session_changelist":            _row("302 302 302 302 302 302 200 200"),
    "admin:workgroups_minutesversion_pdf":            _row("302 302 302 302 302 302 200 200"),
    # The audit trail (journal, its CSV, one change, an object's history): agents and the superuser.
    "admin:journal":                                  _row("302 302 302 302 302 302 200 200"),
    "admin:journal_export":                           _row("302 302 302 302 302 302 200 200"),
    "admin:journal_record":                           _row("302 302 302 302 302 302 200 200"),
    "admin:measures_feedback_history":                _row("302 302 302 302 302 302 200 200"),
}
# fmt: on


# --- The URLs -------------------------------------------------------------------------------


def _walk(patterns, prefix="", namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            if pattern.name:
                yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), route
            else:
                yield None, route


def portal_urls() -> set[str]:
    """Every URL the matrix must cover: named patterns, or the route of an unnamed one."""
    keys = set()
    admin_path = getattr(settings, "ADMIN_PATH", "admin/")
    for name, route in _walk(get_resolver().url_patterns):
        if name is None:
            if route.startswith(admin_path):
                route = "admin/" + route[len(admin_path) :]  # the admin's path is set from the environment
            if route.startswith("admin/") and route not in UNNAMED_COVERED:
                continue  # the admin's own redirects (see the module's docstring)
            if route.startswith(("^media/", "media/")):
                continue  # served by Django only with DEBUG
            keys.add(route)
        elif name.startswith("admin:") and name not in ADMIN_COVERED:
            continue
        else:
            keys.add(name)
    return keys


def test_every_url_has_a_row():
    keys = portal_urls()
    rows = {key.split("|")[0] for key in EXPECTED}
    missing = sorted(keys - rows)
    gone = sorted(rows - keys)
    assert not missing, f"URLs without a row in EXPECTED (add one per role): {missing}"
    assert not gone, f"Rows of EXPECTED whose URL no longer exists: {gone}"
    assert set(TARGETS) == set(EXPECTED), "each row needs its arguments in TARGETS"


# --- The objects ----------------------------------------------------------------------------


@pytest.fixture
def world(
    settings,
    tmp_path,
    network_a,
    network_b,
    alice,
    bob,
    coordinator_a,
    lead,
    staff,
    outsider,
    measure,
    open_round,
    group,
    other_group,
    session,
):
    settings.MEDIA_ROOT = tmp_path / "media"
    now = timezone.now()
    superuser = UserFactory(email="racine@anct.example", full_name="Super Utilisatrice", is_staff=True)
    superuser.is_superuser = True
    superuser.save(update_fields=["is_superuser"])
    # A second representative of A, whose membership the "remove" page names.
    dora = UserFactory(email="dora@alpha.example", full_name="Dora Alpha")
    dora_membership = MembershipFactory(user=dora, network=network_a, role=Membership.Role.REPRESENTATIVE)

    closed_round = RoundFactory(
        title="Consultation du printemps",
        opens_at=now - timedelta(days=60),
        closes_at=now - timedelta(days=30),
        measures=[measure],
        networks=[network_a, network_b],
    )
    report = RoundReport.objects.create(
        round=closed_round, status=RoundReport.Status.READY, rendered_at=now, sha256="0" * 64, size=9, page_count=1
    )
    report.file.save("rapport.pdf", ContentFile(b"%PDF-1.7\n"), save=True)

    feedback_a = FeedbackFactory(measure=measure, network=network_a, author=alice, round=open_round)
    draft_a = FeedbackFactory(
        measure=measure,
        network=network_a,
        author=alice,
        round=open_round,
        status=Feedback.Status.DRAFT,
        submitted_at=None,
    )
    invitation_a = Invitation.objects.create(
        network=network_a,
        email="nouvelle@alpha.example",
        full_name="Nouvelle Personne",
        role=Membership.Role.REPRESENTATIVE,
        invited_by=coordinator_a,
    )

    # ``session`` is ahead (a lead's pages); ``held`` is past, with published minutes.
    Session.objects.filter(pk=session.pk).update(invitations_sent_at=now - timedelta(days=1))
    session.refresh_from_db()
    session_invitation = SessionInvitation.objects.create(
        session=session, user=alice, network=network_a, source=SessionInvitation.Source.NETWORK
    )
    starts = now - timedelta(days=3)
    held = SessionFactory(
        group=group,
        title="Séance tenue",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        status=Session.Status.HELD,
    )
    SessionInvitation.objects.create(
        session=held, user=alice, network=network_a, source=SessionInvitation.Source.NETWORK, attended=True
    )
    minutes = Minutes.objects.create(session=held, body="Compte rendu.")
    version = MinutesVersion.objects.create(
        minutes=minutes,
        number=1,
        published_by=lead,
        body="Compte rendu.",
        body_html="<p>Compte rendu.</p>",
        snapshot={"items": []},
        pdf_status=MinutesVersion.PdfStatus.READY,
    )
    version.pdf.save("compte-rendu.pdf", ContentFile(b"%PDF-1.7\n"), save=True)
    action = ActionItem.objects.create(
        minutes=minutes, kind=ActionItem.Kind.ACTION, text="Recenser les employeurs", owner_user=alice
    )
    draft_session = SessionFactory(group=group, title="Séance en préparation")  # invitations not sent
    other_session = SessionFactory(group=other_group, title="Séance de l'autre groupe")
    feed = CalendarFeed.objects.create(user=alice)

    w = SimpleNamespace(**locals())
    w.answer_token = make_answer_token(session_invitation)
    w.invitation_token = make_invitation_token(invitation_a)
    w.users = {
        "anonymous": None,
        "outsider": outsider,
        "alice": alice,
        "bob": bob,
        "coordinator_a": coordinator_a,
        "lead": lead,
        "staff": staff,
        "superuser": superuser,
    }
    return w


def _slug(w):
    return {"slug": w.network_a.slug}


# What each row requests: the URL's kwargs (or a full path), from the objects above.
TARGETS = {
    # concertation
    "home": {},
    "dashboard": {},
    "healthz": ({}, "checks=database"),  # the workers' check would depend on a running worker
    "search": ({}, "q=emplois"),
    "legal_notice": {},
    "personal_data": {},
    "accessibility": {},
    "sitemap": {},
    # The portal's own view, ahead of the admin's sign-in page at the same address.
    "admin/login/": lambda w: reverse("admin:login"),
    # allauth and i18n
    "account_email": {},
    "account_login": {},
    "account_logout": {},
    "account_inactive": {},
    "account_signup": {},
    "account_reauthenticate": {},
    "account_email_verification_sent": {},
    "account_change_password": {},
    "account_set_password": {},
    "account_reset_password": {},
    "account_confirm_login_code": {},
    "account_confirm_email": {"key": "cle-inconnue"},
    "account_reset_password_from_key_done": {},
    "account_reset_password_from_key": {"uidb36": "1", "key": "cle-inconnue"},
    "account_reset_password_done": {},
    # allauth's social accounts and ProConnect (networks/proconnect/), off by default.
    "socialaccount_connections": {},
    "socialaccount_signup": {},
    "socialaccount_login_cancelled": {},
    "socialaccount_login_error": {},
    "compte/social/connections/": lambda w: "/compte/social/connections/",
    "compte/social/signup/": lambda w: "/compte/social/signup/",
    "compte/social/login/cancelled/": lambda w: "/compte/social/login/cancelled/",
    "compte/social/login/error/": lambda w: "/compte/social/login/error/",
    "proconnect_login": {},
    "proconnect_callback": ({}, "code=inconnu&state=inconnu"),
    "proconnect_end_session": {},
    "set_language": {},
    # allauth's second factor (networks.mfa): staff and superuser are enrolled, members are not.
    "mfa_index": {},
    "mfa_authenticate": {},
    "mfa_reauthenticate": {},
    "mfa_activate_totp": {},
    "mfa_deactivate_totp": {},
    "mfa_view_recovery_codes": {},
    "mfa_generate_recovery_codes": {},
    "mfa_download_recovery_codes": {},
    # networks
    "networks:list": {},
    "networks:detail": lambda w: _slug(w),
    "networks:detail|other": lambda w: {"slug": w.network_b.slug},
    "networks:invite": lambda w: _slug(w),
    "networks:deactivate_member": lambda w: {**_slug(w), "membership_id": w.dora_membership.pk},
    "networks:resend_invitation": lambda w: {**_slug(w), "invitation_id": w.invitation_a.pk},
    "networks:cancel_invitation": lambda w: {**_slug(w), "invitation_id": w.invitation_a.pk},
    "networks:accept_invitation": lambda w: {"token": w.invitation_token},
    "networks:territory_search": ({}, "q=seine"),
    "networks:my_data": {},
    "networks:my_data_json": {},
    # measures
    "measures:list": {},
    "measures:detail": lambda w: {"pk": w.measure.pk},
    "measures:feedback_create": lambda w: {"pk": w.measure.pk},
    "measures:feedback_list": {},
    "measures:feedback_export": {},
    "measures:feedback_detail": lambda w: {"pk": w.feedback_a.pk},
    # A draft is its author's only, for the superuser too (404 to everyone else inside).
    "measures:feedback_detail|draft": lambda w: {"pk": w.draft_a.pk},
    "measures:feedback_edit": lambda w: {"pk": w.feedback_a.pk},
    "measures:feedback_edit|draft": lambda w: {"pk": w.draft_a.pk},
    "measures:feedback_withdraw": lambda w: {"pk": w.feedback_a.pk},
    "measures:feedback_respond": lambda w: {"pk": w.feedback_a.pk},
    "measures:synthesis": {},
    "measures:round_list": {},
    "measures:round_detail": lambda w: {"pk": w.open_round.pk},
    "measures:round_detail|closed": lambda w: {"pk": w.closed_round.pk},
    "measures:round_rates_export": lambda w: {"pk": w.open_round.pk},
    "measures:round_measure_rates_export": lambda w: {"pk": w.open_round.pk},
    "measures:round_report_create": lambda w: {"pk": w.closed_round.pk},
    "measures:round_report_download": lambda w: {"pk": w.report.pk},
    "measures:feedback_quote": lambda w: {"pk": w.feedback_a.pk},
    # workgroups
    "workgroups:group_list": {},
    "workgroups:attendance_by_network": {},
    "workgroups:group_detail": lambda w: {"pk": w.group.pk},
    # Groups, sessions announced and published minutes are read by every member
    # (``workgroups.read_groups``), not only by the group's networks.
    "workgroups:group_detail|other": lambda w: {"pk": w.other_group.pk},
    "workgroups:delegates_edit": lambda w: {"pk": w.group.pk, "network_pk": w.network_a.pk},
    "workgroups:session_create": lambda w: {"pk": w.group.pk},
    "workgroups:session_detail": lambda w: {"pk": w.session.pk},
    "workgroups:session_detail|draft": lambda w: {"pk": w.draft_session.pk},
    "workgroups:session_detail|other": lambda w: {"pk": w.other_session.pk},
    "workgroups:session_edit": lambda w: {"pk": w.session.pk},
    "workgroups:agenda_edit": lambda w: {"pk": w.session.pk},
    "workgroups:session_invitations": lambda w: {"pk": w.session.pk},
    "workgroups:invite_group": lambda w: {"pk": w.session.pk},
    "workgroups:invitation_withdraw": lambda w: {"pk": w.session.pk, "invitation_pk": w.session_invitation.pk},
    "workgroups:session_cancel": lambda w: {"pk": w.session.pk},
    "workgroups:attendance_edit": lambda w: {"pk": w.held.pk},
    "workgroups:session_list": {},
    "workgroups:answer_in_portal": lambda w: {"pk": w.session.pk},
    "workgroups:session_ics": lambda w: {"pk": w.session.pk},
    "workgroups:answer_by_link": lambda w: {"token": w.answer_token},
    "workgroups:calendar_settings": {},
    "workgroups:calendar_feed": lambda w: {"token": w.feed.token},
    "workgroups:minutes_edit": lambda w: {"pk": w.held.pk},
    "workgroups:minutes_preview": lambda w: {"pk": w.held.pk},
    "workgroups:minutes_publish": lambda w: {"pk": w.held.pk},
    "workgroups:minutes_version": lambda w: {"pk": w.held.pk, "number": 1},
    "workgroups:minutes_pdf": lambda w: {"pk": w.held.pk, "number": 1},
    "workgroups:minutes_list": {},
    "workgroups:action_item_status": lambda w: {"pk": w.action.pk},
    # admin (see ADMIN_COVERED)
    "admin:index": {},
    "admin:login": {},
    "admin:logout": {},
    "admin:networks_user_changelist": {},
    "admin:auth_group_changelist": {},
    "admin:socialaccount_socialaccount_changelist": {},
    "admin:networks_invitation_changelist": {},
    "admin:networks_invitation_import": {},
    "admin:measures_measure_import": {},
    "admin:measures_consultationround_changelist": {},
    "admin:measures_feedback_changelist": {},
    "admin:measures_feedback_change": lambda w: {"object_id": w.feedback_a.pk},
    "admin:workgroups_session_changelist": {},
    "admin:workgroups_minutesversion_pdf": lambda w: {"object_id": w.version.pk},
    "admin:journal": {},
    "admin:journal_export": {},
    "admin:journal_record": lambda w: {
        "source": "measures.feedback",
        "history_id": w.feedback_a.history.latest("history_date").history_id,
    },
    "admin:measures_feedback_history": lambda w: {"object_id": w.feedback_a.pk},
}


# --- The matrix -----------------------------------------------------------------------------


def _path(key, w) -> str:
    target = TARGETS[key]
    value = target(w) if callable(target) else target
    if isinstance(value, str):
        return value
    kwargs, query = value if isinstance(value, tuple) else (value, "")
    url = reverse(key.split("|")[0], kwargs=kwargs or None)
    return f"{url}?{query}" if query else url


def _status(response):
    if response.status_code == 302:
        login = reverse("account_login")
        return "login" if response["Location"].split("?")[0] == login else 302
    return response.status_code


def test_authorization_matrix(client, world):
    paths = {key: _path(key, world) for key in EXPECTED}
    mismatches = []
    seen = {}
    for role in ROLES:
        user = world.users[role]
        for key, path in paths.items():
            client.logout()
            if user is not None:
                client.force_login(user)
            got = _status(client.get(path))
            seen.setdefault(key, {})[role] = got
            want = EXPECTED[key][role]
            if got != want:
                mismatches.append(f"{key} as {role}: expected {want}, got {got} ({path})")
    if os.environ.get("MATRIX_DUMP"):
        for key in sorted(seen):
            print(f'    "{key}": _row("' + " ".join(str(seen[key][r]) for r in ROLES) + '"),')
    assert not mismatches, f"{len(mismatches)} statuses differ from EXPECTED:\n" + "\n".join(mismatches)
