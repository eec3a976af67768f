from django.core.management.base import BaseCommand

from workgroups.services import reminders_send_due, sessions_fan_out_resume


class Command(BaseCommand):
    help = (
        "Envoie les rappels de séance arrivés à échéance et reprend les invitations de groupe inachevées "
        "(ce que fait Celery beat en production). Sans effet si rien n'est dû."
    )

    def handle(self, *args, **options):
        resumed = sessions_fan_out_resume()
        reminded = reminders_send_due()
        self.stdout.write(
            f"{resumed} invitation(s) de groupe reprise(s), {reminded} rappel(s) de séance mis en file d'envoi."
        )
