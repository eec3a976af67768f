"""Every content page carries the same breadcrumb: « Accueil » first, the page last (issue 9)."""

import html
import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

TRAIL = re.compile(r'<ol class="fr-breadcrumb__list">(.*?)</ol>', re.S)
LINK = re.compile(r'<a class="fr-breadcrumb__link"(?: href="([^"]*)")?(?: aria-current="page")?[^>]*>(.*?)</a>', re.S)


def trail_of(response):
    found = TRAIL.findall(response.content.decode())
    assert len(found) == 1, f"{response.request['PATH_INFO']}: {len(found)} breadcrumbs"
    return [(href, html.unescape(re.sub(r"\s+", " ", label).strip())) for href, label in LINK.findall(found[0])]


def test_public_pages_start_at_home_and_end_on_the_page(client):
    for name, last in (
        ("measures:list", "Mesures"),
        ("networks:list", "Réseaux"),
        ("legal_notice", "Mentions légales"),
        ("personal_data", "Données personnelles"),
        ("accessibility", "Déclaration d’accessibilité"),
        ("sitemap", "Plan du site"),
        ("search", "Rechercher dans le site"),
        ("workgroups:minutes_list", "Comptes rendus"),
    ):
        trail = trail_of(client.get(reverse(name)))
        assert trail[0] == (reverse("home"), "Accueil"), name
        assert trail[-1] == ("", last), name


def test_member_pages_name_their_parents(client, alice, measure, open_round, network_a):
    from tests.factories import FeedbackFactory

    feedback = FeedbackFactory(measure=measure, network=network_a, author=alice, round=open_round)
    client.force_login(alice)
    expectations = {
        reverse("measures:detail", args=[measure.pk]): ["Accueil", "Mesures", f"Mesure {measure.number}"],
        reverse("measures:round_detail", args=[open_round.pk]): ["Accueil", "Consultations", open_round.title],
        reverse("measures:feedback_detail", args=[feedback.pk]): [
            "Accueil",
            "Retours",
            f"Retour du réseau {network_a.name} sur la mesure {measure.number}",
        ],
        reverse("networks:detail", args=[network_a.slug]): ["Accueil", "Réseaux", network_a.name],
        reverse("measures:synthesis"): ["Accueil", "Synthèse des retours"],
        reverse("measures:feedback_list"): ["Accueil", "Retours de terrain"],
        reverse("dashboard"): ["Accueil", "Mon tableau de bord"],
    }
    for url, labels in expectations.items():
        assert [label for _href, label in trail_of(client.get(url))] == labels, url
