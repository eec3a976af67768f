"""Calendar files as calendar clients read them, and their MIME part in e-mails."""

from datetime import datetime
from email import message_from_bytes
from zoneinfo import ZoneInfo

import icalendar

from concertation.lib import ics
from outbox.delivery import as_email_message
from outbox.models import OutboxMessage
from outbox.services import Attachment

PARIS = ZoneInfo("Europe/Paris")


def _event(**overrides):
    values = {
        "uid": "abc@concertation",
        "sequence": 3,
        "start": datetime(2027, 3, 28, 10, 0, tzinfo=PARIS),
        "end": datetime(2027, 3, 28, 12, 0, tzinfo=PARIS),
        "summary": "Séance plénière",
        "organizer": ics.Person("ne-pas-repondre@concertation.example", "Concertation"),
        "attendees": (ics.Person("alice@alpha.example", "Alice Alpha"),),
    }
    return ics.CalendarEvent(**{**values, **overrides})


def test_times_keep_their_paris_hour_on_both_sides_of_daylight_saving_changes():
    events = [
        _event(uid="spring"),  # the Sunday clocks go forward: 10:00 is UTC+2
        _event(
            uid="autumn",
            start=datetime(2027, 10, 31, 10, 0, tzinfo=PARIS),  # clocks went back at 3:00: UTC+1
            end=datetime(2027, 10, 31, 11, 0, tzinfo=PARIS),
        ),
    ]
    calendar = icalendar.Calendar.from_ical(ics.calendar_bytes(events, method=ics.REQUEST))
    spring, autumn = calendar.events
    assert spring.start.hour == autumn.start.hour == 10
    assert spring.start.utcoffset().total_seconds() == 7200
    assert autumn.start.utcoffset().total_seconds() == 3600
    assert b"DTSTART;TZID=Europe/Paris:20270328T100000" in ics.calendar_bytes(events)
    [timezone] = calendar.walk("VTIMEZONE")
    assert timezone["TZID"] == "Europe/Paris"
    assert {c.name for c in timezone.subcomponents} == {"STANDARD", "DAYLIGHT"}


def test_a_cancellation_says_so_under_the_same_uid():
    calendar = icalendar.Calendar.from_ical(ics.calendar_bytes([_event(cancelled=True)], method=ics.CANCEL))
    assert calendar["METHOD"] == "CANCEL"
    [event] = calendar.events
    assert (str(event["UID"]), event["SEQUENCE"], event["STATUS"]) == ("abc@concertation", 3, "CANCELLED")
    assert str(event["ATTENDEE"]) == "mailto:alice@alpha.example"


def test_the_e_mail_part_carries_the_method_calendar_clients_look_for(db):
    content = ics.calendar_bytes([_event()], method=ics.REQUEST)
    message = OutboxMessage(
        to_email="alice@alpha.example",
        subject="Invitation",
        body_text="Bonjour",
        attachments=[Attachment("invitation.ics", ics.content_type(ics.REQUEST), content).as_json()],
    )
    parsed = message_from_bytes(as_email_message(message).message().as_bytes())
    [part] = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST"
    assert part.get_content_charset() == "utf-8"
    assert part.get_filename() == "invitation.ics"
    assert part.get_payload(decode=True) == content
