"""A map of France by département, drawn server-side as SVG.

Metropolitan France is drawn in an equirectangular projection corrected for
its mean latitude; the five overseas départements get insets of their own
along the left edge. Outlines: IGN GEOFLA, codes and names: INSEE COG
(Licence Ouverte), in ``data/departements.geojson``.
"""

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

GEOJSON = Path(__file__).resolve().parent / "data" / "departements.geojson"
WIDTH, HEIGHT = 640, 600
OVERSEAS = ["971", "972", "973", "974", "976"]
# Paris and its inner ring, too small to see or to tap on the national map, drawn again enlarged.
ZOOMED = ["75", "92", "93", "94"]
_ZOOM_FRAME = (WIDTH - 120, 10, WIDTH - 10, 120)
_METRO_BOX = (150, 10, WIDTH - 10, HEIGHT - 10)  # x0, y0, x1, y1
_INSET_SIZE = 100
_INSET_GAP = 12


@dataclass(frozen=True)
class Area:
    """What the map shows for one département."""

    fill: str
    label: str
    url: str = ""


def _rings(geometry) -> list[list[tuple[float, float]]]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    return [ring for polygon in geometry["coordinates"] for ring in polygon]


def _bounds(rings, scale_x: float):
    xs = [lon * scale_x for ring in rings for lon, _lat in ring]
    ys = [-lat for ring in rings for _lon, lat in ring]
    return min(xs), min(ys), max(xs), max(ys)


def _fit(rings_by_code: dict[str, list], box, scale_x: float) -> dict[str, str]:
    """SVG path data for ``rings_by_code`` scaled into ``box`` (aspect kept)."""
    all_rings = [ring for rings in rings_by_code.values() for ring in rings]
    min_x, min_y, max_x, max_y = _bounds(all_rings, scale_x)
    x0, y0, x1, y1 = box
    factor = min((x1 - x0) / (max_x - min_x), (y1 - y0) / (max_y - min_y))
    offset_x = x0 + ((x1 - x0) - (max_x - min_x) * factor) / 2
    offset_y = y0 + ((y1 - y0) - (max_y - min_y) * factor) / 2
    paths = {}
    for code, rings in rings_by_code.items():
        parts = []
        for ring in rings:
            points = [
                f"{offset_x + (lon * scale_x - min_x) * factor:.1f},{offset_y + (-lat - min_y) * factor:.1f}"
                for lon, lat in ring
            ]
            parts.append("M" + "L".join(points) + "Z")
        paths[code] = "".join(parts)
    return paths


@lru_cache(maxsize=1)
def departement_shapes() -> tuple[dict[str, str], dict[str, str], list, dict[str, str]]:
    """(path data by code, name by code, inset frames, enlarged paths of Paris
    and its inner ring). Computed once per process."""
    features = json.loads(GEOJSON.read_text(encoding="utf-8"))["features"]
    names = {f["properties"]["code"]: f["properties"]["nom"] for f in features}
    rings = {f["properties"]["code"]: _rings(f["geometry"]) for f in features}
    metro = {code: r for code, r in rings.items() if code not in OVERSEAS}
    paths = _fit(metro, _METRO_BOX, math.cos(math.radians(46.5)))
    frames = []
    for index, code in enumerate(OVERSEAS):
        top = 10 + index * (_INSET_SIZE + _INSET_GAP)
        frame = (10, top, 10 + _INSET_SIZE, top + _INSET_SIZE)
        mean_lat = sum(lat for ring in rings[code] for _lon, lat in ring) / sum(len(r) for r in rings[code])
        paths.update(
            _fit(
                {code: rings[code]},
                (frame[0] + 4, frame[1] + 4, frame[2] - 4, frame[3] - 4),
                math.cos(math.radians(mean_lat)),
            )
        )
        frames.append((code, frame))
    x0, y0, x1, y1 = _ZOOM_FRAME
    zoomed = _fit(
        {code: rings[code] for code in ZOOMED}, (x0 + 4, y0 + 4, x1 - 4, y1 - 4), math.cos(math.radians(48.85))
    )
    frames.append(("paris", _ZOOM_FRAME))
    return paths, names, frames, zoomed


EMPTY_FILL = "#ffffff"


def render_map(areas: dict[str, Area], *, title: str, description: str) -> SafeString:
    """The SVG of France with each département filled, titled and linked as ``areas`` says."""
    paths, names, frames, zoomed = departement_shapes()
    frame_markup = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" class="map-inset" />',
        ((x0, y0, x1 - x0, y1 - y0) for _code, (x0, y0, x1, y1) in frames),
    )
    shapes = []
    for code, path in [*paths.items(), *zoomed.items()]:
        area = areas.get(code)
        label = f"{names[code]} ({code})" + (f" : {area.label}" if area else "")
        shape = format_html(
            '<path d="{}" fill="{}" class="map-area"><title>{}</title></path>',
            path,
            area.fill if area else EMPTY_FILL,
            label,
        )
        if area and area.url:
            shape = format_html('<a href="{}" aria-label="{}">{}</a>', area.url, label, shape)
        shapes.append(shape)
    return format_html(
        # A group, not an image: the départements inside are links.
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" class="france-map" role="group" '
        'aria-labelledby="map-title map-desc"><title id="map-title">{}</title><desc id="map-desc">{}</desc>'
        "{}{}</svg>",
        WIDTH,
        HEIGHT,
        title,
        description,
        frame_markup,
        format_html_join("", "{}", ((shape,) for shape in shapes)),
    )


# Sequential scale from light to dark blue, readable with the DSFR palette.
SCALE = ["#e3e3fd", "#cacafb", "#a1a1f8", "#6a6af4", "#000091"]


def colour_for(value: float, maximum: float) -> str:
    """The scale colour for ``value`` between 0 and ``maximum``."""
    if maximum <= 0 or value <= 0:
        return SCALE[0]
    index = min(len(SCALE) - 1, int(value / maximum * len(SCALE) - 1e-9))
    return SCALE[index]


def legend(maximum: float, *, percent: bool) -> list[tuple[str, str]]:
    """(colour, range label) for each step of the scale, by the rule of colour_for:
    step i holds the values above i/5 of the maximum, up to (i+1)/5 of it."""
    steps = len(SCALE)
    entries = []
    for index, colour in enumerate(SCALE):
        low, high = maximum * index / steps, maximum * (index + 1) / steps
        if percent:
            entries.append((colour, f"{'> ' if index else ''}{round(low)} – {round(high)} %"))
            continue
        first, last = math.floor(low) + 1, math.floor(high)
        if first > last:
            continue  # no whole number of feedback falls in this step
        entries.append((colour, str(first) if first == last else f"{first} – {last}"))
    return entries
