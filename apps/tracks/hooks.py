"""Where tracks call into the apps above them (apps.core.hooks): moderation fills these slots in
its AppConfig.ready(), to score what members post once it commits."""
from apps.core.hooks import Slot

# (track) → None: a track was uploaded (inside the upload's transaction).
track_written = Slot("tracks.track_written")

# (comment) → None: a track comment was posted, after its event (inside the transaction).
comment_written = Slot("tracks.comment_written")
