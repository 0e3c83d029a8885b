"""Where guilds call into the apps above them (apps.core.hooks): chat fills these slots in its
AppConfig.ready()."""
from apps.core.hooks import Slot

# (*, guild_id, user_id, since) → int: delete a banned user's messages in the guild written since
# `since` and tell their channels; answers how many were deleted. Called inside the ban's
# transaction, after its permission checks (apps.guilds.sanctions.ban_member).
purge_member_messages = Slot("guilds.purge_member_messages", empty=0)
