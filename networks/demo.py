"""Demo data: the real networks of urban-policy actors, some territories and
one account per role. Used by ``manage.py load_demo`` for the embedded run."""

from django.db import transaction

from concertation.agents import agents_group
from networks import services
from networks.models import Membership, Network, Territory, User, sign_in_address_verify

F = Network.Family

NETWORKS = [
    # (name, acronym, slug, family, description)
    (
        "Préfets délégués pour l'égalité des chances et sous-préfets chargés de la politique de la ville",
        "PDEC",
        "prefets-delegues",
        F.STATE,
        "La chaîne préfectorale de la politique de la ville dans les départements.",
    ),
    (
        "Délégués du préfet",
        "DDP",
        "delegues-du-prefet",
        F.STATE,
        "Environ 316 interlocuteurs de l'État présents au quotidien dans les quartiers prioritaires.",
    ),
    (
        "Services déconcentrés jeunesse, sports et cohésion sociale",
        "DRJSCS-DDCS",
        "services-deconcentres",
        F.STATE,
        "Services régionaux et départementaux de l'État chargés de la jeunesse, des sports et de la cohésion sociale.",
    ),
    ("France urbaine", "France urbaine", "france-urbaine", F.ELECTED_OFFICIALS, "Métropoles et grandes villes."),
    (
        "Ville & Banlieue",
        "Ville & Banlieue",
        "ville-et-banlieue",
        F.ELECTED_OFFICIALS,
        "Maires des villes de banlieue populaires.",
    ),
    ("Villes de France", "Villes de France", "villes-de-france", F.ELECTED_OFFICIALS, "Villes moyennes."),
    (
        "Association des maires de France et des présidents d'intercommunalité",
        "AMF",
        "amf",
        F.ELECTED_OFFICIALS,
        "Maires et présidents d'intercommunalité.",
    ),
    (
        "Association des petites villes de France",
        "APVF",
        "apvf",
        F.ELECTED_OFFICIALS,
        "Petites villes de 2 500 à 25 000 habitants.",
    ),
    (
        "Intercommunalités de France",
        "AdCF",
        "intercommunalites-de-france",
        F.ELECTED_OFFICIALS,
        "Les intercommunalités, signataires des contrats de ville.",
    ),
    (
        "Inter-réseaux des professionnels du développement social urbain",
        "IRDSU",
        "irdsu",
        F.PROFESSIONALS,
        "Environ 600 professionnels de la politique de la ville organisés en réseaux régionaux.",
    ),
    (
        "Amadeus",
        "Amadeus",
        "amadeus",
        F.PROFESSIONALS,
        "Les équipes projet politique de la ville d'une quinzaine de grandes villes.",
    ),
    (
        "Réseau national des centres de ressources politique de la ville",
        "RNCRPV",
        "centres-de-ressources",
        F.RESOURCE_CENTRES,
        "Une vingtaine de centres de ressources labellisés par l'État.",
    ),
    (
        "Association des directeurs généraux des communautés de France",
        "ADGCF",
        "adgcf",
        F.PROFESSIONALS,
        "Directeurs et directrices généraux des intercommunalités.",
    ),
    (
        "Conseils citoyens",
        "Conseils citoyens",
        "conseils-citoyens",
        F.CIVIL_SOCIETY,
        "Un conseil par quartier prioritaire, composé d'habitants tirés au sort, associé au pilotage "
        "du contrat de ville.",
    ),
]

# Communes with their INSEE codes (real), and illustrative priority
# neighbourhoods: their codes follow the official format but are the demo's
# own; import the official list with `manage.py import_qpv`.
COMMUNES = [
    ("93066", "Saint-Denis", "93"),
    ("69256", "Vaulx-en-Velin", "69"),
    ("59512", "Roubaix", "59"),
    ("13055", "Marseille", "13"),
]
DEMO_QPV = [
    ("QN09399M", "Quartier de démonstration Saint-Denis", "93066"),
    ("QN06999M", "Quartier de démonstration Vaulx-en-Velin", "69256"),
]

DEMO_PASSWORD = "concertation-demo-2026"
ACCOUNTS = [
    # (email, full name, staff, network slug, role, territory code)
    ("agent@anct.example", "Camille Agent (administration centrale)", True, None, None, None),
    (
        "coordination@irdsu.example",
        "Dominique Coordinatrice (IRDSU)",
        False,
        "irdsu",
        Membership.Role.COORDINATOR,
        "69",
    ),
    (
        "representant@irdsu.example",
        "Sacha Représentant (IRDSU)",
        False,
        "irdsu",
        Membership.Role.REPRESENTATIVE,
        "69256",
    ),
    (
        "representante@franceurbaine.example",
        "Alix Représentante (France urbaine)",
        False,
        "france-urbaine",
        Membership.Role.REPRESENTATIVE,
        "93066",
    ),
]


@transaction.atomic
def load_demo() -> list[tuple[str, str, str]]:
    """Create or refresh the demo data. Returns (e-mail, password, role) per account."""
    for name, acronym, slug, family, description in NETWORKS:
        Network.objects.update_or_create(
            slug=slug, defaults={"name": name, "acronym": acronym, "family": family, "description": description}
        )
    services.territories_load_reference()
    departements = {t.code: t for t in Territory.objects.filter(level=Territory.Level.DEPARTEMENT)}
    for code, name, departement in COMMUNES:
        Territory.objects.update_or_create(
            level=Territory.Level.COMMUNE, code=code, defaults={"name": name, "parent": departements[departement]}
        )
    for code, name, commune_code in DEMO_QPV:
        commune = Territory.objects.get(level=Territory.Level.COMMUNE, code=commune_code)
        qpv, _created = Territory.objects.update_or_create(
            level=Territory.Level.QPV, code=code, defaults={"name": name, "parent": commune.parent}
        )
        qpv.communes.set([commune])

    printed = []
    for email, full_name, staff, network_slug, role, territory_code in ACCOUNTS:
        user = User.objects.filter(email=email).first() or User(email=email)
        # Agents are staff in the Agents group, not superusers: a superuser is for the deployment only.
        user.full_name, user.is_staff, user.is_superuser, user.is_active = full_name, staff, False, True
        user.set_password(DEMO_PASSWORD)
        user.save()
        sign_in_address_verify(user)
        if staff:
            user.groups.add(agents_group())
        if network_slug:
            territory = Territory.objects.exclude(level=Territory.Level.REGION).get(code=territory_code)
            Membership.objects.update_or_create(
                user=user,
                network=Network.objects.get(slug=network_slug),
                defaults={"role": role, "territory": territory, "is_active": True},
            )
        label = "agent (staff)" if staff else f"{role.label} — {network_slug}"
        printed.append((email, DEMO_PASSWORD, label))
    return printed
