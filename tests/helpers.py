import re

from django.core import mail

LINK_PATTERN = re.compile(r"https?://\S+/invitation/[^/\s]+/")


def link_in(message) -> str:
    """The invitation link of an e-mail, as a person would click it."""
    match = LINK_PATTERN.search(message.body if hasattr(message, "body") else message)
    assert match, "no invitation link in the message"
    return match.group(0)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def outbox_to(address: str):
    return [m for m in mail.outbox if address in m.to]
