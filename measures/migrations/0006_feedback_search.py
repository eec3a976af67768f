"""Searching feedback in French, accents ignored, on PostgreSQL: a GIN index on
the expression ``measures.search.feedback_search_vector()`` writes (obstacles
and suggestions weighted A, what works and the answer B, configuration
``french_unaccent`` from ``workgroups/0004``). Nothing on other databases, and
no change to the models' state.

The index is built CONCURRENTLY, outside a transaction: on a large feedback
table the build takes tens of seconds, during which a plain CREATE INDEX would
hold back every write. A build interrupted midway leaves an invalid index,
dropped here before trying again.
"""

from django.db import migrations

INDEX = "measures_feedback_text_fts"

VECTOR = (
    "(setweight(to_tsvector('french_unaccent'::regconfig, "
    "COALESCE(obstacles, '') || ' ' || COALESCE(suggestions, '')), 'A') || "
    "setweight(to_tsvector('french_unaccent'::regconfig, "
    "COALESCE(what_works, '') || ' ' || COALESCE(response, '')), 'B'))"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The configuration comes from workgroups/0004; made here too if this runs first.
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
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = %s",
            [INDEX],
        )
        row = cursor.fetchone()
    if row and row[0]:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON measures_feedback USING GIN ({VECTOR})"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("measures", "0005_timeline_members_only")]

    operations = [migrations.RunPython(forwards, backwards)]
