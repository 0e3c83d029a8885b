"""Full-text search over message content (PostgreSQL only; SQLite searches with a plain contains).

The text search configuration `smartc_search` is `simple` (no stemming, no stop words, so it treats
every language alike) with accents folded by `unaccent`: "ete" finds "été", and the same index
serves English and French. The GIN index is on the expression the search selector repeats
(`to_tsvector('smartc_search', content)`), so no column is added to the table. It is built
CONCURRENTLY so a large message table stays writable while it builds.
"""
from django.db import migrations

CONFIG = """
CREATE EXTENSION IF NOT EXISTS unaccent;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'smartc_search') THEN
    CREATE TEXT SEARCH CONFIGURATION smartc_search (COPY = simple);
    ALTER TEXT SEARCH CONFIGURATION smartc_search
      ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;
  END IF;
END $$;
"""
INDEX = ("CREATE INDEX CONCURRENTLY IF NOT EXISTS message_content_search ON chat_message"
         " USING gin (to_tsvector('smartc_search'::regconfig, content))")
DROP = """
DROP INDEX CONCURRENTLY IF EXISTS message_content_search;
"""
DROP_CONFIG = "DROP TEXT SEARCH CONFIGURATION IF EXISTS smartc_search"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CONFIG)
    schema_editor.execute(INDEX)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(DROP)
    schema_editor.execute(DROP_CONFIG)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ('chat', '0003_threads'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
