"""Every account signs in with one primary, verified address: its own (``User.email``).

An invitation link proved it, or staff gave it; ProConnect signs in only an account whose
verified address it knows. New accounts get it when they are made
(``networks.models.sign_in_address_verify``); ``verify_all`` brings existing ones in line, in
a few set-based queries whatever their number. It takes the two models so that the data
migration ``networks/0007`` and the command ``verify_sign_in_addresses`` (for accounts
that old processes made during a rolling deployment) share it.
"""

from django.db.models import Exists, OuterRef, Subquery

BATCH_SIZE = 1000


def verify_all(user_model, address_model) -> int:
    """Make every not erased account's own address its one primary, verified address.
    Returns how many addresses were created. Safe to run twice."""
    accounts = user_model.objects.filter(erased_at__isnull=True).exclude(email="")
    # Addresses other than the account's own (stored lower-cased, compared exactly: a case-folded
    # comparison would keep look-alikes) are left from before: they would sign in too.
    address_model.objects.filter(user__in=accounts).exclude(
        email=Subquery(user_model.objects.filter(pk=OuterRef("user_id")).values("email")[:1])
    ).delete()
    address_model.objects.filter(user__in=accounts).exclude(primary=True, verified=True).update(
        primary=True, verified=True
    )
    missing = accounts.exclude(Exists(address_model.objects.filter(user_id=OuterRef("pk")))).values_list("pk", "email")
    created = 0
    batch = []
    for pk, email in missing.iterator(chunk_size=BATCH_SIZE):
        batch.append(address_model(user_id=pk, email=email, primary=True, verified=True))
        if len(batch) == BATCH_SIZE:
            created += len(address_model.objects.bulk_create(batch))
            batch = []
    if batch:
        created += len(address_model.objects.bulk_create(batch))
    return created
