"""Calendar files (RFC 5545 / iTIP) built with icalendar.

Knows no app: callers describe their events as ``CalendarEvent`` values.
Times are written in their own time zone (Europe/Paris for the portal) with
the matching VTIMEZONE, so a calendar shows the right hour on both sides of a
daylight-saving change.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import icalendar
from django.utils import timezone

PRODID = "-//Concertation//Groupes de travail//FR"

REQUEST = "REQUEST"
CANCEL = "CANCEL"
PUBLISH = "PUBLISH"


@dataclass(frozen=True)
class Person:
    email: str
    name: str = ""
    # An attendee's answer as calendars know it: NEEDS-ACTION, ACCEPTED, TENTATIVE, DECLINED.
    partstat: str = "NEEDS-ACTION"


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    description: str = ""
    location: str = ""
    url: str = ""
    organizer: Person | None = None
    attendees: tuple[Person, ...] = field(default=())
    cancelled: bool = False
    stamp: datetime | None = None


def _address(person: Person, *, attendee: bool) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{person.email}")
    if person.name:
        address.params["CN"] = person.name
    if attendee:
        address.params["ROLE"] = "REQ-PARTICIPANT"
        address.params["PARTSTAT"] = person.partstat
        address.params["RSVP"] = "FALSE"
    return address


def _event(item: CalendarEvent, tz) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", item.uid)
    event.add("sequence", item.sequence)
    event.add("dtstamp", item.stamp or timezone.now())
    event.add("dtstart", item.start.astimezone(tz))
    event.add("dtend", item.end.astimezone(tz))
    event.add("summary", item.summary)
    if item.description:
        event.add("description", item.description)
    if item.location:
        event.add("location", item.location)
    if item.url:
        event.add("url", item.url)
    if item.organizer:
        event.add("organizer", _address(item.organizer, attendee=False))
    for attendee in item.attendees:
        event.add("attendee", _address(attendee, attendee=True))
    event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
    return event


def calendar_bytes(events: Iterable[CalendarEvent], *, method: str | None = None, name: str = "") -> bytes:
    """One calendar holding ``events``; ``method`` is REQUEST or CANCEL for
    e-mailed invitations, None for a downloaded file or a subscribed feed."""
    tz = timezone.get_default_timezone()
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    events = list(events)
    for item in events:
        calendar.add_component(_event(item, tz))
    if events:
        # The time zone's rules over the span the events cover, not since 1970.
        first = min(item.start for item in events).astimezone(tz).date() - timedelta(days=366)
        last = max(item.end for item in events).astimezone(tz).date() + timedelta(days=366)
        calendar.add_missing_timezones(first_date=max(first, date(1970, 1, 1)), last_date=last)
    return calendar.to_ical()


def calendar_bytes_per_attendee(item: CalendarEvent, attendees, *, method: str) -> dict[str, bytes]:
    """The same event for each attendee, naming only them (a fan-out of a
    thousand invitations builds the calendar and its time zone once)."""
    shared = calendar_bytes([replace(item, attendees=())], method=method)
    head, _sep, tail = shared.rpartition(b"END:VEVENT\r\n")
    files = {}
    for person in attendees:
        line = icalendar.Event()
        line.add("attendee", _address(person, attendee=True))
        attendee_line = line.to_ical().removeprefix(b"BEGIN:VEVENT\r\n").removesuffix(b"END:VEVENT\r\n")
        files[person.email] = head + attendee_line + b"END:VEVENT\r\n" + tail
    return files


def content_type(method: str | None) -> str:
    """The MIME type calendar clients expect, with the iTIP method when there is one."""
    return f"text/calendar; charset=utf-8; method={method}" if method else "text/calendar; charset=utf-8"
