from datetime import timedelta

import factory
from django.utils import timezone
from django.utils.text import slugify

from measures.models import Assessment, ConsultationRound, Feedback, Measure, Ministry, Programme, Roadmap
from measures.services import measure_set_ministries
from networks.models import Membership, Network, Territory, User

DEFAULT_PASSWORD = "un-mot-de-passe-solide-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@exemple.fr")
    full_name = factory.Faker("name", locale="fr_FR")

    @classmethod
    def _create(cls, model_class, *args, password=DEFAULT_PASSWORD, **kwargs):
        return model_class.objects.create_user(*args, password=password, **kwargs)

    @factory.post_generation
    def totp(obj, create, extracted, **kwargs):
        """Staff sign in with a second factor (networks.mfa): staff and superusers come with an
        authenticator app and recovery codes, as after enrolment. ``totp=False`` leaves them
        without (sent to enrol), ``totp=True`` gives one to a member too."""
        if create and (extracted if extracted is not None else (obj.is_staff or obj.is_superuser)):
            from tests.helpers import totp_enrol

            totp_enrol(obj)


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


# --- Measures ----------------------------------------------------------------


class RoadmapFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Roadmap
        django_get_or_create = ("slug",)

    title = "Mobilisation nationale pour les habitants des quartiers"
    slug = "feuille-de-route"


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme
        django_get_or_create = ("roadmap", "title")

    roadmap = factory.SubFactory(RoadmapFactory)
    title = "Emploi et insertion professionnelle"
    position = 3


class MeasureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measure
        skip_postgeneration_save = True

    programme = factory.SubFactory(ProgrammeFactory)
    roadmap = factory.LazyAttribute(lambda o: o.programme.roadmap)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Mesure de test {n + 1}")

    @factory.post_generation
    def ministries(self, create, extracted, **kwargs):
        """``MeasureFactory(ministries=["Éducation nationale", "Ville"])``: names, lead first (default Travail)."""
        if create:
            names = ["Travail"] if extracted is None else extracted
            ministries = [Ministry.objects.get_or_create(name=name)[0] for name in names]
            measure_set_ministries(measure=self, ministries=ministries)


class RoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsultationRound
        skip_postgeneration_save = True

    roadmap = factory.SubFactory(RoadmapFactory)
    title = factory.Sequence(lambda n: f"Consultation {n}")
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=10))

    @factory.post_generation
    def measures(self, create, extracted, **kwargs):
        if create and extracted:
            self.measures.set(extracted)

    @factory.post_generation
    def networks(self, create, extracted, **kwargs):
        if create and extracted:
            self.networks.set(extracted)


class FeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Feedback

    measure = factory.SubFactory(MeasureFactory)
    network = factory.SubFactory(NetworkFactory)
    author = factory.SubFactory(UserFactory)
    assessment = Assessment.WORKS
    status = Feedback.Status.SUBMITTED
    submitted_at = factory.LazyFunction(timezone.now)
    what_works = "Les partenaires se sont saisis du dispositif."


class WorkingGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "workgroups.WorkingGroup"
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Groupe de travail {n}")
    theme = "Emploi"

    @factory.post_generation
    def networks(self, create, extracted, **kwargs):
        if create and extracted:
            self.networks.set(extracted)

    @factory.post_generation
    def leads(self, create, extracted, **kwargs):
        if create and extracted:
            self.leads.set(extracted)

    @factory.post_generation
    def people(self, create, extracted, **kwargs):
        if create and extracted:
            self.people.set(extracted)


class SessionFactory(factory.django.DjangoModelFactory):
    """A session in ten days, in person, without invitations sent yet."""

    class Meta:
        model = "workgroups.Session"

    group = factory.SubFactory(WorkingGroupFactory)
    title = factory.Sequence(lambda n: f"Séance {n}")
    starts_at = factory.LazyFunction(
        lambda: (timezone.now() + timedelta(days=10)).replace(hour=9, minute=30, second=0, microsecond=0)
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=2))
    format = "in_person"
    place = "ANCT, 20 avenue de Ségur, Paris"
    reminder_offsets = factory.LazyFunction(lambda: [7 * 24 * 60, 24 * 60])
