"""The synthesis of feedback: grouped counts from SQL, shaped into tables.

The functions take rows that SQL already grouped and counted
(``FeedbackQuerySet.count_by``) and run no query.
``FeedbackSummary`` runs those grouped queries, each when first read, so a
page whose content is cached runs none.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.functional import cached_property

from measures.models import Assessment, ObstacleCategory
from networks.models import Network

ASSESSMENT_ORDER = list(Assessment.values)
# On a tie the least favourable assessment wins, so that problems show; "too early" loses ties.
TIE_BREAK_ORDER = [Assessment.DOES_NOT_WORK, Assessment.PARTLY, Assessment.WORKS, Assessment.TOO_EARLY]


@dataclass
class Distribution:
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def dominant(self) -> str | None:
        """The most frequent assessment (ties: see TIE_BREAK_ORDER)."""
        if not self.total:
            return None
        return max(TIE_BREAK_ORDER, key=lambda value: self.counts.get(value, 0)).value

    @property
    def dominant_label(self) -> str:
        return Assessment(self.dominant).label if self.dominant else ""

    @property
    def summary(self) -> str:
        """ "fonctionne : 2, ne fonctionne pas : 1" — the non-zero counts in words."""
        return ", ".join(f"{row['label'].lower()} : {row['count']}" for row in self.rows if row["count"])

    @property
    def rows(self) -> list[dict]:
        total = self.total
        return [
            {
                "value": value,
                "label": str(Assessment(value).label),
                "count": self.counts.get(value, 0),
                "share": round(100 * self.counts.get(value, 0) / total) if total else 0,
            }
            for value in ASSESSMENT_ORDER
        ]


def distribution(counts: dict[str, int]) -> Distribution:
    return Distribution(dict(counts))


def grouped(rows, key: str) -> dict:
    """``{row[key]: Distribution}`` from rows counted by (key, assessment)."""
    result: dict = defaultdict(Distribution)
    for row in rows:
        result[row[key]].counts[row["assessment"]] = row["count"]
    return dict(result)


def by_family(rows) -> list[dict]:
    groups = grouped(rows, "network__family")
    return [
        {"value": value, "label": label, "distribution": groups[value]}
        for value, label in Network.Family.choices
        if value in groups
    ]


def by_territory(rows, code_key: str, name_key: str) -> list[dict]:
    groups = grouped(rows, code_key)
    names = {row[code_key]: row[name_key] for row in rows}
    return [
        {"code": code, "name": names[code] or "", "distribution": groups[code]}
        for code in sorted(groups, key=lambda c: (c is None, c or ""))
    ]


def obstacles(rows, feedback_total: int) -> list[dict]:
    """Each obstacle category with the share of feedback that ticked it (several may be ticked)."""
    return [
        {
            "value": row["category"],
            "label": ObstacleCategory(row["category"]).label,
            "count": row["count"],
            "share": round(100 * row["count"] / feedback_total) if feedback_total else 0,
        }
        for row in rows
    ]


def matrix(rows, measures, families) -> list[dict]:
    """One line per measure, one cell per network family, each a Distribution."""
    cells: dict = defaultdict(Distribution)
    for row in rows:
        cells[(row["measure_id"], row["network__family"])].counts[row["assessment"]] = row["count"]
    return [
        {
            "measure": measure,
            "cells": [(family, cells.get((measure.pk, family), Distribution())) for family in families],
        }
        for measure in measures
    ]


def regroup(rows, keys: tuple[str, ...]) -> list[dict]:
    """Rows counted by finer groups, summed up to ``keys`` + assessment (no query)."""
    totals: dict = defaultdict(int)
    for row in rows:
        totals[(*(row[key] for key in keys), row["assessment"])] += row["count"]
    return [
        {**dict(zip(keys, group[:-1], strict=True)), "assessment": group[-1], "count": count}
        for group, count in totals.items()
    ]


class FeedbackSummary:
    """The distributions of a set of submitted feedback, each computed when first read.

    Two grouped queries feed the assessment tables (by measure and network
    family, and by région and département; the coarser tables add their
    groups up) and a third counts the obstacle categories.
    """

    def __init__(self, feedback):
        self.feedback = feedback

    @cached_property
    def by_measure_and_family(self) -> list[dict]:
        return list(self.feedback.count_by("measure_id", "network__family", "assessment"))

    @cached_property
    def by_place(self) -> list[dict]:
        return list(
            self.feedback.count_by(
                "region__code", "region__name", "departement__code", "departement__name", "assessment"
            )
        )

    @cached_property
    def distribution(self) -> Distribution:
        return distribution({row["assessment"]: row["count"] for row in regroup(self.by_measure_and_family, ())})

    @cached_property
    def families(self) -> list[dict]:
        return by_family(regroup(self.by_measure_and_family, ("network__family",)))

    @cached_property
    def regions(self) -> list[dict]:
        rows = regroup(self.by_place, ("region__code", "region__name"))
        return by_territory(rows, "region__code", "region__name")

    @cached_property
    def departements(self) -> list[dict]:
        rows = regroup(self.by_place, ("departement__code", "departement__name"))
        return by_territory(rows, "departement__code", "departement__name")

    @cached_property
    def obstacles(self) -> list[dict]:
        return obstacles(self.feedback.obstacle_counts(), self.distribution.total)
