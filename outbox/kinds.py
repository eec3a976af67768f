"""What each kind of e-mail is called, in French, for the outbox's admin.

An e-mail's ``kind`` is the name of its templates (``emails/<kind>/``) or, for
allauth's, of its message (``password_reset_key``). The app that writes a kind
names it from its ``AppConfig.ready`` with ``register_kinds``, the labels kept
next to the functions that queue them (its ``notifications.py``): the outbox
knows no app. A kind nobody named shows as it is stored.
"""

_labels: dict[str, str] = {}


def register_kinds(labels: dict) -> None:
    """Add (or replace) the French names of some kinds: ``{"invitation": _("Invitation au portail")}``."""
    _labels.update(labels)


def kind_label(kind: str) -> str:
    """The French name of ``kind``, else ``kind`` itself."""
    label = _labels.get(kind)
    return str(label) if label is not None else kind
