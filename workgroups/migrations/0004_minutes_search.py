"""Searching published minutes in French, accents ignored, on PostgreSQL.

A text search configuration ``french_unaccent`` (French stemming after
``unaccent``) and a GIN index on the expression the search uses. Other
databases (SQLite in the embedded run) search with a plain match instead.
"""

from django.db import migrations

INDEX = "workgroups_minutesversion_body_fts"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    schema_editor.execute(
        """
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'french_unaccent') THEN
            CREATE TEXT SEARCH CONFIGURATION french_unaccent (COPY = french);
            ALTER TEXT SEARCH CONFIGURATION french_unaccent
              ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
          END IF;
        END $$;
        """
    )
    # The expression Django's SearchVector("body", config="french_unaccent") writes.
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON workgroups_minutesversion "
        "USING GIN (to_tsvector('french_unaccent'::regconfig, COALESCE(body, '')))"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("workgroups", "0003_minutes")]

    operations = [migrations.RunPython(forwards, backwards)]
