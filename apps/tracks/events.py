"""Track events. A track's processing is news to its uploader only: TRACK_UPDATE goes to the
owner's user group at every step, so an upload page follows it live; TRACK_DELETE when it is gone.
Moderation holding a track, or approving it, is a TRACK_UPDATE too (`held` says which); removing it
is a TRACK_DELETE to its owner. Other members hear nothing: no guild-wide track event exists, and
their next read of the track, its media or a list simply no longer finds it.

Comments are news to everyone who can read the track, that is its guild's members: they go to the
guild group with `guild_id` in the payload (the gateway relays a guild event only to connections
that are members of that guild), so an open track page shows a new comment on its waveform live.
While a track is held, its comments' events go to its owner and the commenter only.

Their data is built in payloads.py and documented by serializers.py's EVENT_SHAPES."""
from apps.core.events import guild_group, publish, user_group

from . import payloads

TRACK_UPDATE = "TRACK_UPDATE"
TRACK_DELETE = "TRACK_DELETE"
TRACK_COMMENT_CREATE = "TRACK_COMMENT_CREATE"
TRACK_COMMENT_DELETE = "TRACK_COMMENT_DELETE"

# The events this app publishes (the registry docs/gateway.md and /api/schema/ are checked against).
EVENTS = (TRACK_UPDATE, TRACK_DELETE, TRACK_COMMENT_CREATE, TRACK_COMMENT_DELETE)


def track_update(track) -> None:
    publish(user_group(track.owner_id), TRACK_UPDATE, payloads.track_status(track))


def track_delete(owner_id: int, track_id: int) -> None:
    """The track is gone for its owner: deleted, or removed by moderation."""
    publish(user_group(owner_id), TRACK_DELETE, payloads.track_deleted(track_id))


def _comment_audience(comment) -> list[str]:
    """The guild, or, while moderation holds the track, only its owner and the comment's author:
    the others cannot read the track, so its comments must not reach them either."""
    track = comment.track
    if track.visibility == track.Visibility.VISIBLE:
        return [guild_group(track.guild_id)]
    return list(dict.fromkeys([user_group(track.owner_id), user_group(comment.author_id)]))


def track_comment_create(comment) -> None:
    publish(_comment_audience(comment), TRACK_COMMENT_CREATE, payloads.comment_event(comment))


def track_comment_delete(comment) -> None:
    publish(_comment_audience(comment), TRACK_COMMENT_DELETE, payloads.comment_deleted(comment))
