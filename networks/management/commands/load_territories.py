from django.core.management.base import BaseCommand

from networks import services


class Command(BaseCommand):
    help = "Crée ou met à jour les 18 régions et 101 départements (codes INSEE)."

    def handle(self, *args, **options):
        count = services.territories_load_reference()
        self.stdout.write(self.style.SUCCESS(f"{count} départements et leurs régions à jour."))
