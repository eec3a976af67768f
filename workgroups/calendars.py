"""Sessions as calendar entries: e-mailed invitations, downloads and personal feeds."""

from dataclasses import replace
from email.utils import parseaddr

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from concertation.lib import ics
from concertation.lib.emails import absolute_url
from workgroups.models import Session, SessionInvitation


def organizer() -> ics.Person:
    name, address = parseaddr(settings.SESSION_ORGANIZER_EMAIL or settings.DEFAULT_FROM_EMAIL)
    return ics.Person(email=address, name=name or settings.PORTAL["name"])


def session_event(session: Session, *, attendee=None, with_link: bool, agenda=None) -> ics.CalendarEvent:
    """The entry of a session. ``with_link`` only for invitees, leads and staff:
    the online link goes nowhere else. ``agenda``: its items, if already loaded."""
    page = absolute_url(reverse("workgroups:session_detail", args=[session.pk]))
    lines = [session.group.title]
    agenda = list(session.agenda_items.all()) if agenda is None else agenda
    if agenda:
        lines += ["", _("Ordre du jour :")] + [f"{n}. {item.title}" for n, item in enumerate(agenda, start=1)]
    location = session.place
    if with_link and session.online_url:
        lines += ["", _("Lien de connexion : %(url)s") % {"url": session.online_url}]
        location = f"{session.place} — {session.online_url}" if session.place else session.online_url
    lines += ["", page]
    return ics.CalendarEvent(
        uid=session.calendar_uid(),
        sequence=session.sequence,
        start=session.starts_at,
        end=session.ends_at,
        summary=session.title,
        description="\n".join(lines),
        location=location,
        url=page,
        organizer=organizer(),
        attendees=(ics.Person(email=attendee.email, name=attendee.get_full_name()),) if attendee else (),
        cancelled=session.status == Session.Status.CANCELLED,
    )


PARTSTAT = {
    SessionInvitation.Answer.PENDING: "NEEDS-ACTION",
    SessionInvitation.Answer.ACCEPTED: "ACCEPTED",
    SessionInvitation.Answer.TENTATIVE: "TENTATIVE",
    SessionInvitation.Answer.DECLINED: "DECLINED",
}


def session_invitation_ics_files(session: Session, invitations, *, method: str, agenda=None) -> dict[str, bytes]:
    """Each invitee's calendar file, keyed by address, built once for all. The
    file carries the answer already given in the portal, so an update or a
    reminder does not reset it in the person's calendar."""
    # A cancelling file removes the entry: it has no use for the link, which a withdrawn person must not get.
    event = session_event(session, with_link=method != ics.CANCEL, agenda=agenda)
    if method == ics.CANCEL:
        # Also for one person taken off a scheduled session: their copy is cancelled.
        event = replace(event, cancelled=True)
    people = [
        ics.Person(email=i.user.email, name=i.user.get_full_name(), partstat=PARTSTAT[i.answer]) for i in invitations
    ]
    return ics.calendar_bytes_per_attendee(event, people, method=method)


def sessions_ics(sessions_with_link, *, name: str) -> bytes:
    """A downloadable file or a feed: ``sessions_with_link`` pairs each session
    with whether its reader may see the online link."""
    return ics.calendar_bytes(
        [session_event(session, with_link=with_link) for session, with_link in sessions_with_link], name=name
    )
