from . import selectors


def sidebar(request):
    """The guild rail on every page of a signed-in member."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"my_guilds": selectors.guilds_of(user)}
