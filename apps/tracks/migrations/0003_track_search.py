"""Full-text search over tracks (PostgreSQL only; SQLite searches with a plain contains).

What a search reads is one text column, `search_text` (title, tags, genre, artist username and
display name), written by the upload service. The GIN index is on the expression the search
selector repeats (`to_tsvector('smartc_search', search_text)`), with the text search configuration
chat's migration 0004 made (`simple` + unaccent, so it serves English and French alike).
"""
from django.db import migrations

INDEX = ("CREATE INDEX CONCURRENTLY IF NOT EXISTS track_search ON tracks_track"
         " USING gin (to_tsvector('smartc_search'::regconfig, search_text))")
DROP = "DROP INDEX CONCURRENTLY IF EXISTS track_search"


def fill(apps, schema_editor):
    Track = apps.get_model("tracks", "Track")
    for track in Track.objects.select_related("owner").prefetch_related("tags").iterator(chunk_size=500):
        words = [track.title, *(t.name for t in track.tags.all()), track.genre, track.owner.username,
                 track.owner.display_name]
        Track.objects.filter(pk=track.pk).update(search_text=" ".join(w for w in words if w))


def forwards(apps, schema_editor):
    fill(apps, schema_editor)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INDEX)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("chat", "0004_message_search"),
        ("tracks", "0002_social"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
