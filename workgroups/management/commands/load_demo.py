from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from measures.demo import load_demo as load_measures_demo
from networks.demo import load_demo as load_networks_demo
from workgroups.demo import load_demo as load_workgroups_demo


class Command(BaseCommand):
    # Here because only the top layer (workgroups) may import every app's demo.
    help = (
        "Charge les données de démonstration : réseaux, territoires, comptes de chaque rôle, "
        "feuille de route 2018, une consultation ouverte et des retours de terrain, "
        "deux groupes de travail (un thématique et la plénière) avec leurs séances."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Autorise le chargement en production.")

    def handle(self, *args, force=False, **options):
        if settings.PRODUCTION and not force:
            raise CommandError("Données de démonstration refusées en production (ajoutez --force pour passer outre).")
        accounts = load_networks_demo()
        load_measures_demo()
        accounts += load_workgroups_demo()
        self.stdout.write(self.style.SUCCESS("Données de démonstration chargées. Comptes :"))
        for email, password, role in accounts:
            self.stdout.write(f"  {email:<40} {password:<26} {role}")
