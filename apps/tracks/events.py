"""Track events. A track's processing is news to its uploader only: TRACK_UPDATE goes to the
owner's user group at every step, so an upload page follows it live; TRACK_DELETE when it is gone."""
from apps.core.events import publish, user_group

TRACK_UPDATE = "TRACK_UPDATE"
TRACK_DELETE = "TRACK_DELETE"


def track_update(track) -> None:
    from .selectors import track_status

    publish(user_group(track.owner_id), TRACK_UPDATE, track_status(track))
