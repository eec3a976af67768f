"""Demo roadmap: the 2018 "Mobilisation nationale pour les habitants des
quartiers", its five programmes and measures confirmed by public sources.
The official numbering was not found: the numbers here are the demo's own."""

import random
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from measures import services
from measures.models import (
    Assessment,
    ConsultationRound,
    Feedback,
    Measure,
    MeasureStatus,
    Ministry,
    ObstacleCategory,
    Roadmap,
)
from networks.models import Membership, Network, Territory, User, sign_in_address_verify

PROGRAMMES = [
    "Sécurité et prévention de la délinquance",
    "Éducation et petite enfance",
    "Emploi et insertion professionnelle",
    "Logement et cadre de vie",
    "Lien social",
]

S = MeasureStatus
MEASURES = [
    # (programme index, title, ministries (the lead one first, separated by ";"), status)
    (
        0,
        "Police de sécurité du quotidien : 60 quartiers de reconquête républicaine "
        "et 1 300 policiers et gendarmes supplémentaires d'ici 2020",
        "Intérieur",
        S.IN_PROGRESS,
    ),
    (
        3,
        "Doublement du nouveau programme de renouvellement urbain (NPNRU), de 5 à 10 milliards d'euros",
        "Cohésion des territoires",
        S.IN_PROGRESS,
    ),
    (
        3,
        "Plan Initiative Copropriétés : 3 milliards d'euros sur dix ans pour environ 700 copropriétés en difficulté",
        "Cohésion des territoires",
        S.IN_PROGRESS,
    ),
    (
        1,
        "Dédoublement des classes de CP et de CE1 en éducation prioritaire (REP et REP+)",
        "Éducation nationale",
        S.IMPLEMENTED,
    ),
    (1, "80 cités éducatives (environ 100 millions d'euros)", "Éducation nationale;Ville", S.IN_PROGRESS),
    (
        1,
        "30 000 stages de 3e pour les collégiens des quartiers prioritaires, pour moitié dans les entreprises",
        "Éducation nationale",
        S.IN_PROGRESS,
    ),
    (1, "Davantage d'agents territoriaux spécialisés des écoles maternelles (Atsem)", "Éducation nationale", S.PLANNED),
    (1, "Cordées de la réussite : tutorat vers l'enseignement supérieur", "Enseignement supérieur", S.IN_PROGRESS),
    (
        2,
        "Emplois francs : aide à l'embauche des habitants des quartiers prioritaires, "
        "expérimentée dans 194 quartiers puis généralisée en 2020",
        "Travail",
        S.IMPLEMENTED,
    ),
    (
        2,
        "PaQte : pacte avec les entreprises pour sensibiliser, former, recruter et acheter",
        "Cohésion des territoires",
        S.IN_PROGRESS,
    ),
    (2, "Testing des discriminations à l'embauche dans 40 grandes entreprises", "Travail", S.IMPLEMENTED),
    (
        2,
        "Mobilisation du plan d'investissement dans les compétences et de l'apprentissage pour les habitants",
        "Travail",
        S.IN_PROGRESS,
    ),
    (4, "1 000 postes d'adultes-relais et 760 postes Fonjep supplémentaires", "Ville", S.IN_PROGRESS),
    (
        4,
        "Soutien aux principales associations de quartier et création d'un Conseil présidentiel des villes",
        "Ville",
        S.IMPLEMENTED,
    ),
    (4, "Maisons de services au public dans les quartiers prioritaires", "Cohésion des territoires", S.SUSPENDED),
]

# The ministries the measures above name.
MINISTRIES = [
    "Intérieur",
    "Cohésion des territoires",
    "Éducation nationale",
    "Enseignement supérieur",
    "Travail",
    "Ville",
]

WHAT_WORKS = [
    "Les partenaires se sont saisis du dispositif et les premiers résultats sont visibles.",
    "Bonne articulation avec le contrat de ville et les équipes de terrain.",
    "Les habitants concernés connaissent le dispositif et y ont recours.",
]
OBSTACLES = [
    "Les crédits arrivent tard dans l'année et fragilisent les associations porteuses.",
    "Les critères d'éligibilité excluent une partie des habitants des quartiers.",
    "Le manque de personnel ralentit la mise en œuvre.",
    "Les acteurs ne se coordonnent pas assez entre l'État et les collectivités.",
]
SUGGESTIONS = [
    "Simplifier le dossier de demande et publier un calendrier annuel.",
    "Associer les délégués du préfet au comité de pilotage local.",
    "Prévoir une information ciblée des habitants avec les conseils citoyens.",
]
DEMO_DEPARTEMENTS = ["93", "69", "59", "13", "75", "94", "95", "31", "33", "67", "971", "974"]


@transaction.atomic
def load_demo() -> None:
    roadmap, _created = Roadmap.objects.update_or_create(
        slug="mobilisation-nationale-2018",
        defaults={
            "title": "Mobilisation nationale pour les habitants des quartiers",
            "adopted_on": date(2018, 7, 18),
            "description": (
                "Feuille de route adoptée en Conseil des ministres le 18 juillet 2018 : une quarantaine de "
                "décisions engageant tous les ministères, suivies par chaque ministère chef de file. "
                "La numérotation des mesures est propre à cette démonstration."
            ),
        },
    )
    programmes = [services.programme_for(roadmap, title, position) for position, title in enumerate(PROGRAMMES, 1)]
    ministries = {name: Ministry.objects.get_or_create(name=name)[0] for name in MINISTRIES}
    for number, (programme, title, names, status) in enumerate(MEASURES, 1):
        measure, _created = Measure.objects.update_or_create(
            roadmap=roadmap,
            number=number,
            defaults={"programme": programmes[programme], "title": title, "status": status},
        )
        services.measure_set_ministries(
            measure=measure, ministries=[ministries[name] for name in services.ministry_names(names)]
        )
    if Feedback.objects.exists():
        return
    _demo_feedback(roadmap)


def _demo_feedback(roadmap: Roadmap) -> None:
    """An open round and about sixty feedback entries, so the synthesis has something to show."""
    rng = random.Random(2018)
    now = timezone.now()
    measures = list(roadmap.measures.order_by("number"))
    networks = list(Network.objects.order_by("name"))
    consultation = ConsultationRound.objects.create(
        roadmap=roadmap,
        title="Consultation d'automne sur l'emploi et l'éducation",
        instructions="Dites-nous ce qui fonctionne et ce qui bloque sur votre territoire, avec des exemples.",
        opens_at=now - timedelta(days=10),
        closes_at=now + timedelta(days=20),
        opening_notified_at=now - timedelta(days=10),
    )
    consultation.measures.set([m for m in measures if m.programme.position in (2, 3)])
    consultation.networks.set(networks)
    departements = {
        t.code: t for t in Territory.objects.filter(level=Territory.Level.DEPARTEMENT, code__in=DEMO_DEPARTEMENTS)
    }
    authors = {}
    for network in networks:
        author, _created = User.objects.get_or_create(
            email=f"terrain.{network.slug}@demo.example",
            defaults={"full_name": f"Contributeur {network.acronym or network.name}"},
        )
        author.set_unusable_password()
        author.save()
        sign_in_address_verify(author)
        Membership.objects.get_or_create(
            user=author, network=network, defaults={"role": Membership.Role.REPRESENTATIVE}
        )
        authors[network.pk] = author
    weights = [4, 4, 2, 1]
    for index in range(60):
        network = networks[index % len(networks)]
        measure = rng.choice(measures)
        in_round = consultation.measures.filter(pk=measure.pk).exists() and rng.random() < 0.6
        territory = departements[rng.choice(DEMO_DEPARTEMENTS)]
        assessment = rng.choices(Assessment.values, weights=weights)[0]
        feedback = Feedback.objects.create(
            measure=measure,
            round=consultation if in_round else None,
            author=authors[network.pk],
            network=network,
            territory=territory,
            departement=territory,
            region=territory.parent,
            assessment=assessment,
            what_works=rng.choice(WHAT_WORKS),
            obstacles=rng.choice(OBSTACLES) if assessment != Assessment.WORKS else "",
            suggestions=rng.choice(SUGGESTIONS),
            status=Feedback.Status.SUBMITTED,
            submitted_at=now - timedelta(days=rng.randint(0, 60)),
        )
        if feedback.obstacles:
            for category in rng.sample(ObstacleCategory.values[:-1], k=rng.randint(1, 2)):
                feedback.obstacle_rows.create(category=category)
