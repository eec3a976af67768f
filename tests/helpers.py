import re
import time

from django.core import mail

# The online link of the sessions the `invited` fixture makes hybrid.
ONLINE_URL = "https://visio.example/salle-42?pwd=secret"

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


def wait_until(condition, timeout=60, what="condition"):
    """Poll ``condition`` until true: for work a worker process does meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} not reached within {timeout} s")
