"""The API's own serializer fields.

StrictCharField is DRF's CharField that takes only a JSON string: DRF's would turn 12 or 1.5 into
"12" and "1.5", so a body the schema calls invalid would pass (query strings and forms are text
anyway). Every string field of the API's serializers is one; ruff's banned-api rule (pyproject.toml)
refuses DRF's own CharField in apps/.

Its max_length applies to the string as sent, as the OpenAPI schema's maxLength says: DRF checks the
length after trimming, so 101 characters with a leading U+0085 would pass a limit of 100.
"""
from rest_framework import serializers

from apps.core.converters import MAX_ID


class StrictCharField(serializers.CharField):  # noqa: TID251 (the one subclass)
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class IdField(serializers.IntegerField):
    """A database id sent by the client: an integer no wider than the id columns (MAX_ID). A larger
    one would reach a query that SQLite refuses (an OverflowError, a 500) and PostgreSQL answers
    with nothing, so it is the field's 400 here, as a number past any other bound is. Every input id
    of the API's serializers is one (output ids are plain IntegerFields)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)
