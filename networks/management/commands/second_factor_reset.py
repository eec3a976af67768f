from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from networks import services
from networks.models import User


class Command(BaseCommand):
    help = (
        "Réinitialise le second facteur perdu d'un compte (application et codes de récupération) et ferme ses "
        "sessions. Pour le compte du superutilisateur, qu'aucune autre personne ne peut réinitialiser depuis "
        "l'administration ; les agents passent par l'administration."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="Adresse électronique du compte")

    def handle(self, *args, email, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"Aucun compte n'a l'adresse {email}.")
        try:
            services.user_second_factor_reset(user=user, by=None)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Second facteur de {user.email} réinitialisé, sessions fermées : "
                "un nouveau sera activé à la prochaine connexion."
            )
        )
