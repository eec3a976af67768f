"""Ministries become a list: a ``Ministry`` table and each measure's ministries in
order (``MeasureMinistry.position``, 1 is the lead ministry, « chef de file »).

The old ``lead_ministry`` text is split on semicolons, and on a comma only
when what follows starts with a capital letter (« Éducation nationale, Ville »
→ Éducation nationale, then Ville), never on « et »: official names hold
« et » and commas followed by « de la », « des »… (« Ministère du Travail, de
la Santé et des Solidarités » stays one). A short name such as « Travail,
Santé et Solidarités » is still split: the migration prints every split so
that agents can check them in the admin. Names are matched without regard to
case; going back joins the names with « ; », which this split reads again."""

import re

import django.db.models.deletion
from django.db import migrations, models

# A semicolon, or a comma before a capitalised word (« , Ville » but not « , de la Santé »).
_SEPARATORS = re.compile(r";|,(?=\s*[A-ZÀ-ÖØ-Þ])")


def split_ministries(text: str) -> list[str]:
    """The ministries named in an old ``lead_ministry`` text, in order, once each."""
    names, seen = [], set()
    for part in _SEPARATORS.split(text or ""):
        name = " ".join(part.split())[:200]
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
    return names


def ministries_from_text(apps, schema_editor):
    Measure = apps.get_model("measures", "Measure")
    Ministry = apps.get_model("measures", "Ministry")
    MeasureMinistry = apps.get_model("measures", "MeasureMinistry")
    known = {m.name.casefold(): m for m in Ministry.objects.all()}
    rows = []
    for measure in Measure.objects.exclude(lead_ministry="").only("pk", "number", "lead_ministry"):
        names = split_ministries(measure.lead_ministry)
        if len(names) > 1:
            print(f"  mesure {measure.number} : « {measure.lead_ministry} » → {' | '.join(names)}")
        for position, name in enumerate(names, 1):
            ministry = known.get(name.casefold())
            if ministry is None:
                ministry = known[name.casefold()] = Ministry.objects.create(name=name)
            rows.append(MeasureMinistry(measure_id=measure.pk, ministry=ministry, position=position))
    MeasureMinistry.objects.bulk_create(rows)


def text_from_ministries(apps, schema_editor):
    Measure = apps.get_model("measures", "Measure")
    MeasureMinistry = apps.get_model("measures", "MeasureMinistry")
    names: dict[int, list[str]] = {}
    for row in MeasureMinistry.objects.select_related("ministry").order_by("measure_id", "position", "pk"):
        names.setdefault(row.measure_id, []).append(row.ministry.name)
    for measure_id, listed in names.items():
        Measure.objects.filter(pk=measure_id).update(lead_ministry="; ".join(listed)[:200])


class Migration(migrations.Migration):
    dependencies = [("measures", "0007_round_reports")]

    operations = [
        migrations.CreateModel(
            name="Ministry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200, unique=True, verbose_name="nom")),
                (
                    "short_name",
                    models.CharField(
                        blank=True, help_text="Par exemple : MENJ. Facultatif.", max_length=60, verbose_name="nom court"
                    ),
                ),
            ],
            options={"verbose_name": "ministère", "verbose_name_plural": "ministères", "ordering": ["name"]},
        ),
        migrations.CreateModel(
            name="MeasureMinistry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "position",
                    models.PositiveSmallIntegerField(
                        default=1, help_text="1 : ministère chef de file.", verbose_name="ordre"
                    ),
                ),
                (
                    "measure",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="ministry_rows",
                        to="measures.measure",
                    ),
                ),
                (
                    "ministry",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="measure_rows",
                        to="measures.ministry",
                        verbose_name="ministère",
                    ),
                ),
            ],
            options={
                "verbose_name": "ministère de la mesure",
                "verbose_name_plural": "ministères (le premier est chef de file)",
                "ordering": ["position", "pk"],
            },
        ),
        migrations.AddField(
            model_name="measure",
            name="ministries",
            field=models.ManyToManyField(
                blank=True,
                related_name="measures",
                through="measures.MeasureMinistry",
                to="measures.ministry",
                verbose_name="ministères",
            ),
        ),
        migrations.AddConstraint(
            model_name="measureministry",
            constraint=models.UniqueConstraint(fields=("measure", "ministry"), name="measure_ministry_once"),
        ),
        migrations.RunPython(ministries_from_text, text_from_ministries),
        migrations.RemoveField(model_name="measure", name="lead_ministry"),
    ]
