"""Shapes of the chat API. Messages leave through payloads.message_payload, so REST and the
gateway show a message the same way."""
from rest_framework import serializers

from apps.core.fields import IdField, StrictCharField

from . import events


class MessageIn(serializers.Serializer):
    content = StrictCharField(max_length=100_000, allow_blank=True, trim_whitespace=False)
    reply_to = IdField(required=False, allow_null=True, default=None)
    nonce = StrictCharField(required=False, allow_null=True, default=None, max_length=64,
                            help_text="Your key for this send (any string you choose, at most 64 characters, "
                            "new for each message): a retry with the same nonce within 10 minutes returns the "
                            "message already sent instead of sending a second one. Echoed in the answer and "
                            "in MESSAGE_CREATE.")
    attachment_ids = serializers.ListField(child=IdField(), required=False, default=list,
                                           help_text="Ids of your unsent uploads to this channel (at most 10).")
    embeds = serializers.ListField(child=serializers.JSONField(), required=False, default=None, allow_null=True,
                                   help_text="Up to 10 rich embeds (EmbedIn; EMBED_LINKS). The service checks "
                                   "each field and names the one at fault.")


class MessageEdit(serializers.Serializer):
    content = StrictCharField(max_length=100_000, allow_blank=True, trim_whitespace=False)


class SuppressEmbedsIn(serializers.Serializer):
    suppress = serializers.BooleanField(default=True, help_text="True removes the message's link previews; false "
                                        "brings them back.")


class HistoryQuery(serializers.Serializer):
    before = IdField(required=False)
    after = IdField(required=False)
    around = IdField(required=False)
    limit = serializers.IntegerField(required=False, default=50)


class AckIn(serializers.Serializer):
    message_id = IdField(min_value=1)


class ReactionOut(serializers.Serializer):
    emoji = StrictCharField()
    count = serializers.IntegerField()
    me = serializers.BooleanField()


class AuthorOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = StrictCharField()
    display_name = StrictCharField()
    avatar = StrictCharField(allow_null=True)
    color = StrictCharField()
    bot = serializers.BooleanField(help_text="True for a bot account or a webhook (then `id` is the webhook's); "
                                   "shown with a BOT tag.")


class ReplyOut(serializers.Serializer):
    id = serializers.IntegerField()
    content = StrictCharField(help_text="The quote: one line of plain text, mentions by name, no markdown "
                                        "signs, spoilers masked, at most 200 characters.")
    author = StrictCharField(allow_null=True)


class AttachmentOut(serializers.Serializer):
    """An uploaded file (built by payloads.attachment_payload). `url` and `thumbnail_url` are served
    to members who can view the channel; `thumbnail_url` is null until the media queue made it."""

    id = serializers.IntegerField()
    filename = StrictCharField()
    size = serializers.IntegerField()
    content_type = StrictCharField()
    url = StrictCharField()
    thumbnail_url = StrictCharField(allow_null=True)
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    state = serializers.ChoiceField(choices=["pending", "ready", "failed"])


class ThreadSummaryOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = StrictCharField()
    message_count = serializers.IntegerField()
    last_message_at = serializers.DateTimeField()
    archived = serializers.BooleanField()
    locked = serializers.BooleanField()


class EmbedImageOut(serializers.Serializer):
    url = StrictCharField()
    proxy_url = StrictCharField(allow_null=True, help_text="The WebP copy on this site that clients show; null "
                                "until it is made, or when the image could not be fetched.")


class EmbedAuthorOut(serializers.Serializer):
    name = StrictCharField()
    url = StrictCharField(required=False)
    icon_url = StrictCharField(required=False)
    proxy_icon_url = StrictCharField(required=False, allow_null=True)


class EmbedFooterOut(serializers.Serializer):
    text = StrictCharField()
    icon_url = StrictCharField(required=False)
    proxy_icon_url = StrictCharField(required=False, allow_null=True)


class EmbedFieldOut(serializers.Serializer):
    name = StrictCharField()
    value = StrictCharField()
    value_html = StrictCharField(help_text="`value` rendered as message markdown, sanitised.")
    inline = serializers.BooleanField()


class EmbedOut(serializers.Serializer):
    """A rich embed (Discord's shape; `rich`), or a link preview the server made (`link`, `video`: a
    player shown as its thumbnail, opening the link)."""

    type = serializers.ChoiceField(choices=["rich", "link", "video"])
    title = StrictCharField(required=False)
    description = StrictCharField(required=False)
    description_html = StrictCharField(required=False, help_text="`description` rendered as message markdown, "
                                       "sanitised.")
    url = StrictCharField(required=False)
    color = serializers.IntegerField(required=False, min_value=0, max_value=0xFFFFFF)
    timestamp = StrictCharField(required=False)
    author = EmbedAuthorOut(required=False)
    footer = EmbedFooterOut(required=False)
    fields = EmbedFieldOut(many=True, required=False)
    image = EmbedImageOut(required=False)
    thumbnail = EmbedImageOut(required=False)
    provider = serializers.DictField(child=StrictCharField(), required=False,
                                     help_text="A preview's site: {\"name\": …}.")


class EmbedIn(serializers.Serializer):
    """A rich embed to send (Discord's shape and limits; checked field by field by the service)."""

    title = StrictCharField(required=False, help_text="At most 256 characters.")
    description = StrictCharField(required=False, help_text="Markdown, at most 4096 characters.")
    url = StrictCharField(required=False, help_text="http or https only.")
    color = serializers.IntegerField(required=False)
    author = serializers.DictField(required=False, help_text="{name, url, icon_url}")
    footer = serializers.DictField(required=False, help_text="{text, icon_url}")
    fields = serializers.ListField(child=serializers.DictField(), required=False,
                                   help_text="At most 25 of {name (256), value (1024), inline}.")
    image = serializers.DictField(required=False, help_text="{url}")
    thumbnail = serializers.DictField(required=False, help_text="{url}")


class MessageOut(serializers.Serializer):
    """Documentation of the message shape (built by payloads.message_payload)."""

    id = serializers.IntegerField()
    channel_id = serializers.IntegerField()
    author = AuthorOut(allow_null=True)
    content = StrictCharField()
    content_html = StrictCharField()
    reply_to = ReplyOut(allow_null=True)
    mention_everyone = serializers.BooleanField()
    mentions = serializers.ListField(child=serializers.IntegerField())
    mention_roles = serializers.ListField(child=serializers.IntegerField())
    pinned = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    thread = ThreadSummaryOut(allow_null=True, help_text="The thread this message started, if any.")
    reactions = ReactionOut(many=True)
    attachments = AttachmentOut(many=True)
    held = serializers.BooleanField(help_text="Hidden by moderation until reviewed: only its author and "
                                    "moderators (MANAGE_MESSAGES) see it.")
    webhook_id = serializers.IntegerField(allow_null=True, help_text="Set when an incoming webhook sent it.")
    embeds = EmbedOut(many=True, help_text="Rich embeds, then link previews (none once `suppress_embeds`).")
    suppress_embeds = serializers.BooleanField(help_text="Its author removed the link previews.")
    nonce = StrictCharField(required=False)


class AttachmentUpload(serializers.Serializer):
    file = serializers.FileField(help_text="One file; images (PNG, JPEG, GIF, WebP) are checked by their content.")


class SearchQuery(serializers.Serializer):
    q = StrictCharField(required=False, allow_blank=True, default="", max_length=256, trim_whitespace=True,
                        help_text="Words to find (all of them; from three letters on, a word also finds the "
                                  "words it starts; accents are ignored), and optionally the filters "
                                  "from:username in:channel has:link|attachment before:… after:…")
    author_id = IdField(required=False, allow_null=True, default=None, min_value=1)
    channel_id = IdField(required=False, allow_null=True, default=None, min_value=1)
    before = StrictCharField(required=False, allow_blank=True, default=None, max_length=40,
                             help_text="A message id, or an ISO date (messages before that day) or datetime")
    after = StrictCharField(required=False, allow_blank=True, default=None, max_length=40,
                            help_text="A message id, or an ISO date (messages after that day) or datetime")
    has = serializers.ListField(child=serializers.ChoiceField(choices=["link", "attachment"]), required=False,
                                default=list, max_length=2)
    limit = serializers.IntegerField(required=False, default=25)
    offset = serializers.IntegerField(required=False, default=0)


class ChannelRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = StrictCharField()
    guild_id = serializers.IntegerField()


class SearchResultOut(MessageOut):
    """A message plus where it is and, for search, the matched part as HTML (only <mark> tags)."""

    reactions = None
    channel = ChannelRefOut()
    snippet = StrictCharField(help_text="Escaped text; only <mark> elements around the matched words")


class SearchOut(serializers.Serializer):
    total = serializers.IntegerField(help_text="Matches, counted up to 1,000")
    capped = serializers.BooleanField(help_text="True when there are more than 1,000 matches")
    results = SearchResultOut(many=True)


class MentionsQuery(serializers.Serializer):
    before = IdField(required=False, allow_null=True, default=None, min_value=1)
    limit = serializers.IntegerField(required=False, default=25)
    guild_id = IdField(required=False, allow_null=True, default=None, min_value=1)


class ThreadOut(serializers.Serializer):
    """Documentation of the thread shape (built by payloads.thread_payload)."""

    id = serializers.IntegerField()
    guild_id = serializers.IntegerField()
    parent_id = serializers.IntegerField()
    type = StrictCharField()
    name = StrictCharField()
    starter_message_id = serializers.IntegerField(allow_null=True)
    creator_id = serializers.IntegerField(allow_null=True)
    archived = serializers.BooleanField()
    locked = serializers.BooleanField()
    message_count = serializers.IntegerField()
    member_count = serializers.IntegerField()
    last_message_at = serializers.DateTimeField()
    archived_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class ThreadMeOut(serializers.Serializer):
    joined = serializers.BooleanField()
    can_send = serializers.BooleanField()
    can_manage = serializers.BooleanField()


class ThreadDetailOut(ThreadOut):
    me = ThreadMeOut()


class ThreadMemberOut(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = StrictCharField()
    display_name = StrictCharField()
    joined_at = serializers.DateTimeField()


# --- events: what each chat event's `d` is (built by payloads.py; see EVENT_SHAPES) ---------------

class MessageEventOut(MessageOut):
    """MESSAGE_CREATE and MESSAGE_UPDATE: the message as the API shows it, without its reactions."""

    reactions = None
    guild_id = serializers.IntegerField(allow_null=True, help_text="Null in a direct message.")
    restored = serializers.BooleanField(required=False, help_text="Only on the MESSAGE_UPDATE of a message a "
                                        "moderator approved: a client that dropped it inserts it again.")


class MessageDeleteEventOut(serializers.Serializer):
    id = serializers.IntegerField()
    channel_id = serializers.IntegerField()
    guild_id = serializers.IntegerField(allow_null=True)
    held = serializers.BooleanField(required=False, help_text="True when moderation holds the message: everyone "
                                    "drops it but its author (`author_id`), who keeps it marked held.")
    author_id = serializers.IntegerField(required=False, allow_null=True, help_text="With `held`.")


class ReactionEventOut(serializers.Serializer):
    """MESSAGE_REACTION_ADD and MESSAGE_REACTION_REMOVE."""

    channel_id = serializers.IntegerField()
    guild_id = serializers.IntegerField(allow_null=True)
    message_id = serializers.IntegerField()
    user_id = serializers.IntegerField()
    emoji = StrictCharField()


class PinsUpdateEventOut(serializers.Serializer):
    channel_id = serializers.IntegerField()
    guild_id = serializers.IntegerField(allow_null=True)
    message_id = serializers.IntegerField()
    pinned = serializers.BooleanField()


class TypingStartEventOut(serializers.Serializer):
    channel_id = serializers.IntegerField()
    guild_id = serializers.IntegerField(allow_null=True)
    user_id = serializers.IntegerField()
    display_name = StrictCharField()
    timestamp = serializers.IntegerField(help_text="Unix seconds; show the indicator for about 8 seconds.")


class MessageAckEventOut(serializers.Serializer):
    """To the user's own connections: their read marker in the channel moved to `message_id`."""

    channel_id = serializers.IntegerField()
    message_id = serializers.IntegerField()


class ThreadEventOut(ThreadOut):
    """THREAD_CREATE and THREAD_UPDATE: the thread; `channel_id` is its parent (= `parent_id`)."""

    channel_id = serializers.IntegerField()


class ThreadDeleteEventOut(serializers.Serializer):
    id = serializers.IntegerField()
    guild_id = serializers.IntegerField()
    channel_id = serializers.IntegerField(help_text="The parent channel.")
    parent_id = serializers.IntegerField()
    type = StrictCharField()


class ThreadMembersUpdateEventOut(serializers.Serializer):
    id = serializers.IntegerField()
    guild_id = serializers.IntegerField()
    channel_id = serializers.IntegerField(help_text="The parent channel.")
    parent_id = serializers.IntegerField()
    member_count = serializers.IntegerField()
    added_user_ids = serializers.ListField(child=serializers.IntegerField())
    removed_user_ids = serializers.ListField(child=serializers.IntegerField())


# The gateway events chat publishes, each with the serializer that documents its `d` (in /api/schema/
# under x-gateway-events; tests/integration/test_payloads.py checks real events against them).
EVENT_SHAPES = {
    events.MESSAGE_CREATE: MessageEventOut,
    events.MESSAGE_UPDATE: MessageEventOut,
    events.MESSAGE_DELETE: MessageDeleteEventOut,
    events.MESSAGE_REACTION_ADD: ReactionEventOut,
    events.MESSAGE_REACTION_REMOVE: ReactionEventOut,
    events.CHANNEL_PINS_UPDATE: PinsUpdateEventOut,
    events.TYPING_START: TypingStartEventOut,
    events.MESSAGE_ACK: MessageAckEventOut,
    events.THREAD_CREATE: ThreadEventOut,
    events.THREAD_UPDATE: ThreadEventOut,
    events.THREAD_DELETE: ThreadDeleteEventOut,
    events.THREAD_MEMBERS_UPDATE: ThreadMembersUpdateEventOut,
}
