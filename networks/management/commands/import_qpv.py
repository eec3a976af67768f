from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from networks import services
from networks.imports import ImportRejected, decode_upload


class Command(BaseCommand):
    help = (
        "Importe la liste officielle des quartiers prioritaires (fichier listeqp*.csv : "
        "code_qp;lib_qp;insee_com;lib_com, UTF-8). Tout ou rien : au moindre problème, rien n'est importé."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {path}")
        try:
            text = decode_upload(path.read_bytes())
            result = services.territories_import_qpv(text=text)
        except ImportRejected as rejected:
            for error in rejected.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(rejected.errors)} problème(s) : aucun quartier importé.") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.created} quartier(s) créé(s), {result.updated} mis à jour, "
                f"{result.communes_created} commune(s) créée(s)."
            )
        )
        if result.without_departement:
            self.stdout.write(
                self.style.WARNING(
                    f"{result.without_departement} quartier(s) sans département connu : "
                    "lancez d'abord « manage.py load_territories »."
                )
            )
