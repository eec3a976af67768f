from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from networks.models import User
from networks.sign_in_addresses import verify_all


class Command(BaseCommand):
    help = (
        "Donne à chaque compte son adresse comme adresse de connexion principale et vérifiée "
        "(après une mise à jour progressive : comptes créés par les anciens processus)."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            created = verify_all(User, EmailAddress)
        self.stdout.write(f"{created} adresse(s) de connexion ajoutée(s).")
