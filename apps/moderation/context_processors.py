from django.utils.functional import SimpleLazyObject

from . import selectors


def warnings(request):
    """A signed-in member's unread warnings, shown on every page until read (read only by the pages
    that show them)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unseen_warnings": SimpleLazyObject(lambda: selectors.unseen_warnings(user))}
