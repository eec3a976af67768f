"""The map of feedback by département, shared by the synthesis page and the round report.

From the départements' distributions (``FeedbackSummary.departements`` or the
report's own rows) to the SVG of ``concertation.lib.francemap`` and its legend;
no query. The page links each département to its feedback; the PDF links nothing.
"""

from collections.abc import Callable

from django.utils.translation import gettext as _

from concertation.lib.francemap import EMPTY_FILL, Area, colour_for, legend, render_map
from measures.models import Assessment


def departement_map(departements, mode: str = "count", *, link: Callable[[str], str] | None = None) -> dict:
    """``{"svg": ..., "legend": [(colour, label)]}``: each département coloured by its
    count of feedback (``mode`` "count") or by the share of one assessment, and
    linked to ``link(code)`` when given."""
    values = {}
    for row in departements:
        if row["code"] is None:
            continue
        dist = row["distribution"]
        if mode == "count":
            values[row["code"]] = (dist.total, _("%(count)s retour(s)") % {"count": dist.total})
        else:
            share = 100 * dist.counts.get(mode, 0) / dist.total if dist.total else 0
            values[row["code"]] = (
                share,
                _("%(share)s %% « %(label)s » sur %(count)s retour(s)")
                % {"share": round(share), "label": Assessment(mode).label, "count": dist.total},
            )
    maximum = 100 if mode != "count" else max((v for v, _l in values.values()), default=0)
    areas = {
        code: Area(fill=colour_for(value, maximum), label=label, url=link(code) if link else "")
        for code, (value, label) in values.items()
    }
    map_legend = [(EMPTY_FILL, _("aucun retour")), *legend(maximum, percent=mode != "count")]
    title = (
        _("Retours par département")
        if mode == "count"
        else _("Part des retours « %(label)s » par département") % {"label": Assessment(mode).label}
    )
    svg = render_map(
        areas,
        title=title,
        description=_(
            "Carte de France par département, départements d'outre-mer et Paris avec sa petite couronne en encarts. "
            "Les mêmes chiffres figurent dans le tableau qui suit."
        ),
    )
    return {"svg": svg, "legend": map_legend}
