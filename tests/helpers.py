import base64
import hashlib
import hmac
import re
import struct
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


# --- Second factor (networks.mfa) ---------------------------------------------------------------

TOTP_STEP_SECONDS = 30
_totp_steps_given: dict[str, int] = {}


def totp_enrol(user, secret: str | None = None) -> str:
    """Give ``user`` an authenticator app and recovery codes, as enrolment does; returns the secret."""
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = secret or generate_totp_secret()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return secret


def totp_secret(user) -> str:
    """The secret of ``user``'s authenticator app, as their phone keeps it."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import decrypt

    return decrypt(Authenticator.objects.get(user_id=user.pk, type=Authenticator.Type.TOTP).data["secret"])


def recovery_codes(user) -> list[str]:
    """The recovery codes ``user`` has not used yet."""
    from allauth.mfa.models import Authenticator

    authenticator = Authenticator.objects.get(user_id=user.pk, type=Authenticator.Type.RECOVERY_CODES)
    return authenticator.wrap().get_unused_codes()


def totp_code_at(secret: str, moment: float) -> str:
    """RFC 6238 (HMAC-SHA1, 30-second steps, 6 digits) computed here, as a phone would."""
    key = base64.b32decode(re.sub(r"\s", "", secret).upper())
    digest = hmac.new(key, struct.pack(">Q", int(moment // TOTP_STEP_SECONDS)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}"


def totp_code(user_or_secret) -> str:
    """The code the person's app shows now. Waits for the next 30-second step when this one ends
    within 3 seconds (the code must still hold when the portal checks it) or already gave a code
    for this secret (the portal accepts each code once)."""
    secret = user_or_secret if isinstance(user_or_secret, str) else totp_secret(user_or_secret)
    secret = re.sub(r"\s", "", secret)
    while True:
        now = time.time()
        step = int(now // TOTP_STEP_SECONDS)
        left = TOTP_STEP_SECONDS - now % TOTP_STEP_SECONDS
        if left >= 3 and _totp_steps_given.get(secret) != step:
            break
        time.sleep(left + 0.05)
    _totp_steps_given[secret] = step
    return totp_code_at(secret, now)


def sign_in_with_code(client, user, password):
    """Sign ``user`` in through the portal's forms (password, then the app's code); returns the last response."""
    from django.urls import reverse

    response = client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert response.status_code == 302, response.status_code
    if response["Location"] == reverse("mfa_authenticate"):
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code(user)})
        assert response.status_code == 302, response.status_code
    return response


def browser_sign_in(page, base_url, user, password):
    """Sign ``user`` (an account or its address) in through the sign-in page in a browser, typing the
    app's code when the portal asks for it (staff)."""
    if isinstance(user, str):
        from networks.models import User

        user = User.objects.get(email=user)
    page.goto(base_url + "/compte/login/")
    page.get_by_label("Courriel").fill(user.email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Se connecter").last.click()
    page.wait_for_url(lambda url: "/compte/login/" not in url)
    if "/compte/2fa/authenticate/" in page.url:
        page.get_by_label("Code de vérification").fill(totp_code(user))
        page.get_by_role("button", name="Se connecter").last.click()
        page.wait_for_url(lambda url: "/compte/2fa/authenticate/" not in url)
