"""Where tracks call into the apps above them (apps.core.hooks): moderation fills these slots in
its AppConfig.ready(), to score what members post once it commits."""
from apps.core.hooks import Slot

# (track) → None: a track was uploaded (inside the upload's transaction).
track_written = Slot("tracks.track_written")

# (comment) → None: a track comment was posted, after its event (inside the transaction).
comment_written = Slot("tracks.comment_written")

# (kind, *, actor, track=None, comment=None, user=None) → None: someone followed `user`, or liked,
# reposted or commented on `track` (inside the write's transaction; notifications tells the people concerned).
activity = Slot("tracks.activity")
