from django.core.management.base import BaseCommand

from measures.services import rounds_announce_opened, rounds_remind_due


class Command(BaseCommand):
    help = (
        "Annonce les consultations qui viennent d'ouvrir et relance les réseaux qui n'ont pas répondu "
        "(ce que fait Celery beat en production). Sans effet si rien n'est dû."
    )

    def handle(self, *args, **options):
        announced = rounds_announce_opened()
        reminded = rounds_remind_due()
        self.stdout.write(f"{announced} consultation(s) annoncée(s), {reminded} relance(s) mise(s) en file d'envoi.")
