"""E-mails about sessions, written to the outbox with their calendar file.

Called by services inside their transaction. Each e-mail carries a
``once_key`` naming its cause, so a task or a click run twice sends nothing
twice: the invitation once per invitation key (a person withdrawn then
invited again gets a new one), an update once per calendar sequence, the
cancellation once, a reminder once per reminder row. Invitations, updates
and reminders still waiting when the session starts are cancelled, never
sent late (``not_after``).
"""

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from concertation.lib import ics
from concertation.lib.emails import absolute_url, render_fragment
from outbox.services import Attachment, Email, emails_queue, once_keys_taken
from workgroups.calendars import session_invitation_ics_files
from workgroups.models import Session, SessionInvitation
from workgroups.tokens import make_answer_token

# The kinds of e-mail written here, named in the outbox's admin (registered from WorkgroupsConfig.ready).
EMAIL_KINDS = {
    "session_invitation": _("Invitation à une séance"),
    "session_update": _("Séance modifiée"),
    "session_cancellation": _("Séance annulée"),
    "session_reminder": _("Rappel de séance"),
    "session_withdrawal": _("Invitation à une séance retirée"),
    "minutes_published": _("Compte rendu publié"),
}

ANSWERS = (
    SessionInvitation.Answer.ACCEPTED,
    SessionInvitation.Answer.TENTATIVE,
    SessionInvitation.Answer.DECLINED,
)


def _answer_links(invitation: SessionInvitation) -> list[dict]:
    base = absolute_url(reverse("workgroups:answer_by_link", args=[make_answer_token(invitation)]))
    return [
        {"answer": answer, "label": SessionInvitation.Answer(answer).label, "url": f"{base}?reponse={answer}"}
        for answer in ANSWERS
    ]


def _emails(template, *, session, invitations, method, cause, not_after=None, **context):
    """One e-mail per invitation; ``cause`` names it in the ``once_key``, as a
    string or a function of the invitation. What all the e-mails share (the
    session's facts, its calendar entry) is built once; e-mails whose cause was
    already queued are not built at all."""
    keyed = []
    for invitation in invitations:
        why = cause(invitation) if callable(cause) else cause
        keyed.append((f"session:{session.pk}:{why}:{invitation.pk}", invitation))
    taken = once_keys_taken(key for key, _invitation in keyed)
    keyed = [(key, invitation) for key, invitation in keyed if key not in taken]
    if not keyed:
        return
    agenda = list(session.agenda_items.select_related("measure"))
    page = absolute_url(reverse("workgroups:session_detail", args=[session.pk]))
    files = session_invitation_ics_files(
        session, [invitation for _key, invitation in keyed], method=method, agenda=agenda
    )
    shared = {"session": session, "group": session.group, "agenda": agenda}
    facts = {
        "facts_text": render_fragment("emails/includes/session_facts.txt", shared),
        "facts_html": render_fragment("emails/includes/session_facts.html", shared),
    }
    for key, invitation in keyed:
        yield Email(
            to=invitation.user.email,
            template=template,
            about=invitation,
            once_key=key,
            not_after=not_after,
            attachments=(
                Attachment(
                    filename="invitation.ics" if method == ics.REQUEST else "annulation.ics",
                    mimetype=ics.content_type(method),
                    content=files[invitation.user.email],
                ),
            ),
            context={
                **shared,
                **facts,
                "person": invitation.user,
                "invitation": invitation,
                "link": page,
                "answer_links": _answer_links(invitation) if method == ics.REQUEST else [],
                **context,
            },
        )


def session_invitation_emails_queue(*, session: Session, invitations) -> int:
    # The key is part of the cause: a person invited again after being withdrawn is told again.
    return len(
        emails_queue(
            _emails(
                "session_invitation",
                session=session,
                invitations=invitations,
                method=ics.REQUEST,
                cause=lambda invitation: f"invitation:{invitation.key[:12]}",
                not_after=session.starts_at,
            )
        )
    )


def session_update_emails_queue(*, session: Session, invitations, changes) -> int:
    return len(
        emails_queue(
            _emails(
                "session_update",
                session=session,
                invitations=invitations,
                method=ics.REQUEST,
                cause=f"update:{session.sequence}",
                not_after=session.starts_at,
                changes=changes,
            )
        )
    )


def session_cancellation_emails_queue(*, session: Session, invitations) -> int:
    return len(
        emails_queue(
            _emails("session_cancellation", session=session, invitations=invitations, method=ics.CANCEL, cause="cancel")
        )
    )


def session_reminder_emails_queue(*, session: Session, invitations, cause: str) -> int:
    return len(
        emails_queue(
            _emails(
                "session_reminder",
                session=session,
                invitations=invitations,
                method=ics.REQUEST,
                cause=cause,
                not_after=session.starts_at,
            )
        )
    )


def session_withdrawal_email_queue(*, invitation: SessionInvitation, cause_key: str) -> int:
    """Tell a person taken off a session; ``cause_key`` is the key of the
    invitation withdrawn, so each withdrawal is told once."""
    return len(
        emails_queue(
            _emails(
                "session_withdrawal",
                session=invitation.session,
                invitations=[invitation],
                method=ics.CANCEL,
                cause=f"withdrawn:{cause_key[:12]}",
            )
        )
    )


def minutes_recipients(session):
    """Who published minutes are sent to: standing invitees and attendees (a
    person may have both; count ``user`` distinctly)."""
    return SessionInvitation.objects.filter(session=session, user__is_active=True).filter(
        Q(pk__in=SessionInvitation.objects.standing().filter(session=session)) | Q(attended=True)
    )


def minutes_published_emails_queue(*, version, pdf: bytes) -> int:
    """Tell every standing invitee and every attendee of the session that its
    minutes are published, with the PDF attached when it is small enough."""
    from django.conf import settings

    session = version.minutes.session
    people = {invitation.user_id: invitation.user for invitation in minutes_recipients(session).select_related("user")}
    attach = len(pdf) <= settings.MINUTES_PDF_ATTACH_MAX_BYTES
    link = absolute_url(reverse("workgroups:minutes_version", args=[session.pk, version.number]))
    filename = f"compte-rendu-{session.starts_at:%Y-%m-%d}-v{version.number}.pdf"
    return len(
        emails_queue(
            Email(
                to=person.email,
                template="minutes_published",
                about=version,
                once_key=f"minutes:{version.pk}:{person.pk}",
                # The stored PDF, read when each e-mail leaves: one copy, not one a row.
                attachments=(Attachment(filename, "application/pdf", storage_path=version.pdf.name),) if attach else (),
                context={
                    "person": person,
                    "version": version,
                    "session": session,
                    "group": session.group,
                    "link": link,
                    "attached": attach,
                },
            )
            for person in people.values()
        )
    )
