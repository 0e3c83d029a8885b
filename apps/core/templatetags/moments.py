from django import template
from django.utils.html import format_html

from apps.core.errors import shown_time

register = template.Library()


@register.simple_tag
def local_time(moment):
    """A <time> the page's script rewrites in the reader's time zone and language (static/js/app.js);
    until then, and without script, it reads in the server's zone."""
    if moment is None:
        return ""
    return format_html('<time datetime="{}" data-local-time>{}</time>', moment.isoformat(), shown_time(moment))
