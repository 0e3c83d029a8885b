from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def attachment_max_bytes() -> int:
    """The upload limit, so the page refuses a file that is too big before sending it."""
    return settings.ATTACHMENT_MAX_BYTES
