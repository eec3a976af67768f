import factory
from django.utils.text import slugify

from networks.models import Membership, Network, Territory, User

DEFAULT_PASSWORD = "un-mot-de-passe-solide-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"personne{n}@exemple.fr")
    full_name = factory.Faker("name", locale="fr_FR")

    @classmethod
    def _create(cls, model_class, *args, password=DEFAULT_PASSWORD, **kwargs):
        return model_class.objects.create_user(*args, password=password, **kwargs)


class NetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Network

    name = factory.Sequence(lambda n: f"Réseau {n}")
    acronym = factory.Sequence(lambda n: f"R{n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    family = Network.Family.PROFESSIONALS
    description = "Un réseau d'acteurs de la politique de la ville."


class TerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory
        django_get_or_create = ("level", "code")

    level = Territory.Level.DEPARTEMENT
    code = "93"
    name = "Seine-Saint-Denis"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    network = factory.SubFactory(NetworkFactory)
    role = Membership.Role.REPRESENTATIVE
