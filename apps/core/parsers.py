"""The API's parsers: request bodies are JSON (uploads multipart), refused with a 400 before any
view reads them when they hold what no service should see (apps.core.untrusted). Kept apart from
apps.core.api: DRF imports them while its views module loads."""
import codecs

from rest_framework import exceptions, parsers
from rest_framework.utils import json

from apps.core import untrusted


def refuse_unstorable(value) -> None:
    """A 400 naming the first field whose text the database cannot store (apps.core.untrusted)."""
    where = untrusted.first_unstorable(value)
    if where is not None:
        raise untrusted.unstorable_text(where)


class JSONParser(parsers.JSONParser):
    """The API's JSON bodies: nesting is bounded (deeper is a parse error, not a RecursionError) and
    text the database cannot store is refused, wherever it is in the body."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = codecs.getreader(encoding)(stream).read()
            data = untrusted.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        refuse_unstorable(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """Uploads: the form fields and file names go through the same text check as JSON bodies."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        where = untrusted.first_unstorable_field(parsed.data) or untrusted.first_unstorable_file_name(parsed.files)
        if where is not None:
            raise untrusted.unstorable_text(where)
        return parsed


class FormParser(parsers.FormParser):
    """Form bodies (a webhook posted like Discord's): the same text check as JSON bodies."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        where = untrusted.first_unstorable_field(data)
        if where is not None:
            raise untrusted.unstorable_text(where)
        return data
