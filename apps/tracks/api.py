"""The tracks API: thin doors onto services and selectors."""
from django.conf import settings
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import NO_CONTENT, CappedUploadView, body_object
from apps.core.converters import is_id
from apps.core.errors import ValidationFailed
from apps.guilds.permissions import Permission
from apps.guilds.selectors import access_guild

from . import artist_api, payloads, selectors, services
from . import serializers as s
from .visibility import payload_via_link, visitor_key

# Reads are open to signed-out visitors (they see public tracks, or one by its secret link:
# visibility.py decides); every write needs an account. DRF's own class, so that the OpenAPI schema
# says those reads need no credentials.
SignedOutMayRead = IsAuthenticatedOrReadOnly


SECRET_PARAM = OpenApiParameter("secret", str, description="An unlisted track's secret (from its link).")


class GuildTracksView(CappedUploadView):
    def upload_limit(self) -> int:
        return settings.TRACK_MAX_BYTES + settings.MAX_IMAGE_UPLOAD_BYTES  # the audio and its cover

    def too_large(self):
        return services.track_too_large()

    @extend_schema(responses=s.TrackOut(many=True),
                   summary="The guild's ready tracks, and your own still processing or failed, newest first")
    def get(self, request, guild_id):
        access = access_guild(request.user, guild_id)
        tracks = selectors.guild_tracks(access.guild, viewer=request.user,
                                        manages=bool(access.permissions & Permission.MANAGE_TRACKS))
        return Response([payloads.track_payload(t) for t in tracks])

    @extend_schema(request={"multipart/form-data": s.TrackUpload}, responses={201: s.TrackOut},
                   summary="Upload a track to a guild (UPLOAD_TRACKS)",
                   description="At most TRACK_MAX_BYTES (200 MB; 413 `file_too_large` above) and TRACK_MAX_SECONDS "
                   "of audio. The format is decided by decoding the file, never by its name: a file that does not "
                   "open as audio is refused with 400 `not_audio` and nothing is stored. Audio outside what the "
                   "pipeline takes is 400 `too_many_channels` (over 8), `unsupported_sample_rate` (outside 8-384 "
                   "kHz), `too_long` or `out_of_proportion` (more audio than the file's size can hold); past "
                   "TRACK_DAILY_SECONDS of audio in the UTC day, 429 `daily_limit`. The track then goes "
                   "`uploaded → processing → ready` (or `failed` with `failure_reason`) on the media queue; its "
                   "owner hears each step as a TRACK_UPDATE gateway event.")
    def post(self, request, guild_id):
        self.check_cap()
        for field in request.FILES:
            if field not in ("file", "cover") or len(request.FILES.getlist(field)) > 1:
                raise ValidationFailed.field(field, gettext("Send one audio file and at most one cover."))
        data = body_object(request)
        track = services.upload_track(uploader=request.user, guild_id=guild_id, upload=request.FILES.get("file"),
                                      title=data.get("title", ""), description=data.get("description", ""),
                                      genre=data.get("genre", ""), tags=data.get("tags", ""),
                                      cover=request.FILES.get("cover"))
        return Response(payloads.track_payload(track), status=status.HTTP_201_CREATED)


class TrackView(APIView):
    permission_classes = [SignedOutMayRead]

    @extend_schema(parameters=[SECRET_PARAM], responses=s.TrackOut,
                   summary="A track (members of its guild; anyone for a public one, or with its secret link)")
    def get(self, request, track_id):
        secret = request.query_params.get("secret")
        track = selectors.readable_track(request.user, track_id, secret=secret)
        return Response(payload_via_link(payloads.track_payload(track), secret))

    @extend_schema(request=s.TrackEdit, responses=s.TrackDetailsOut,
                   summary="Edit a track (its uploader, or MANAGE_TRACKS)",
                   description="Title, description, genre, tags, credits, licence, release date (scheduled: the "
                   "track stays its owner's until then; 400 `release_in_past` or `release_too_far` past a year) "
                   "and the download toggle. The new text is scored by moderation as a new upload's.")
    def patch(self, request, track_id):
        return artist_api.edit(request, track_id)

    @extend_schema(responses=NO_CONTENT, summary="Delete a track (its uploader, or MANAGE_MESSAGES)")
    def delete(self, request, track_id):
        services.delete_track(actor=request.user, track=selectors.readable_track(request.user, track_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- the social layer -----------------------------------------------------------------------

def _counts(request, track):
    return Response(payloads.counts_payload(track, request.user))


class TrackLikeView(APIView):
    @extend_schema(request=None, responses=s.Counts, summary="Like a track (idempotent)")
    def put(self, request, track_id):
        return _counts(request, services.like_track(user=request.user, track_id=track_id))

    @extend_schema(responses={200: s.Counts}, summary="Take your like back (idempotent)")
    def delete(self, request, track_id):
        return _counts(request, services.unlike_track(user=request.user, track_id=track_id))


class TrackRepostView(APIView):
    @extend_schema(request=None, responses=s.Counts,
                   summary="Repost a track to your followers' streams (idempotent)",
                   description="Only followers who can read the track (members of its guild) see the repost.")
    def put(self, request, track_id):
        return _counts(request, services.repost_track(user=request.user, track_id=track_id))

    @extend_schema(responses={200: s.Counts}, summary="Take your repost back (idempotent)")
    def delete(self, request, track_id):
        return _counts(request, services.unrepost_track(user=request.user, track_id=track_id))


class TrackCommentsView(APIView):
    permission_classes = [SignedOutMayRead]

    @extend_schema(parameters=[SECRET_PARAM], responses=s.CommentOut(many=True),
                   summary="A track's comments, in the order of the track")
    def get(self, request, track_id):
        track = selectors.readable_track(request.user, track_id, secret=request.query_params.get("secret"))
        return Response([payloads.comment_payload(c) for c in selectors.track_comments(track, request.user)])

    @extend_schema(request=s.CommentIn, responses={201: s.CommentOut},
                   summary="Comment at a moment of a ready track (COMMENT_ON_TRACKS)",
                   description="`position_ms` past the end of the track is refused with 400 `position_out_of_range`. "
                   "The track's guild hears a TRACK_COMMENT_CREATE gateway event. With `channel_id`, a message "
                   "linking the track at that moment (`/tracks/{id}?t=SECONDS`) and the comment is also sent "
                   "to that channel (SEND_MESSAGES there): both are written or neither, and the answer has the "
                   "message's id in `message_id`.")
    def post(self, request, track_id):
        data = body_object(request)
        channel_id = data.get("channel_id")
        if channel_id is None:
            comment = services.comment_on_track(author=request.user, track_id=track_id, body=data.get("body"),
                                                position_ms=data.get("position_ms"))
            return Response(payloads.comment_payload(comment), status=status.HTTP_201_CREATED)
        if not is_id(channel_id):
            raise ValidationFailed.field("channel_id", gettext("A channel id is a whole number."))
        comment, message = services.comment_in_channel(
            author=request.user, track_id=track_id, channel_id=channel_id, body=data.get("body"),
            position_ms=data.get("position_ms"), origin=request.build_absolute_uri("/"))
        return Response(payloads.comment_with_message(comment, message.id), status=status.HTTP_201_CREATED)


class TrackCommentView(APIView):
    @extend_schema(responses=NO_CONTENT, summary="Delete a comment (its author, or MANAGE_TRACKS)")
    def delete(self, request, track_id, comment_id):
        services.delete_track_comment(actor=request.user, track_id=track_id, comment_id=comment_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TrackPlaysView(APIView):
    permission_classes = [AllowAny]  # a signed-out listener's play (a public page, an embed) counts too

    @extend_schema(request=None, parameters=[SECRET_PARAM], responses=s.PlayOut,
                   summary="Count a play (once per listener per day)",
                   description="The player calls this once when playback starts.")
    def post(self, request, track_id):
        secret = request.query_params.get("secret")
        counted = services.record_play(user=request.user, track_id=track_id, secret=secret,
                                       visitor=visitor_key(request))
        track = selectors.readable_track(request.user, track_id, secret=secret)
        return Response(payloads.play(counted, track.play_count))


class FollowView(APIView):
    def _answer(self, user_id):
        return Response(selectors.follow_state(self.request.user, user_id))

    @extend_schema(request=None, responses=s.FollowOut, summary="Follow a user (idempotent; not yourself)")
    def put(self, request, user_id):
        services.follow_user(follower=request.user, user_id=user_id)
        return self._answer(user_id)

    @extend_schema(responses={200: s.FollowOut}, summary="Stop following a user (idempotent)")
    def delete(self, request, user_id):
        services.unfollow_user(follower=request.user, user_id=user_id)
        return self._answer(user_id)


def _page(request) -> int:
    raw = request.query_params.get("page", "1")
    if not raw.isdigit():
        raise ValidationFailed.field("page", gettext("A page number from 1 to 1000."))
    return int(raw)


class StreamView(APIView):
    @extend_schema(parameters=[OpenApiParameter("page", int, description="From 1; 20 entries a page.")],
                   responses=s.StreamOut,
                   summary="Tracks uploaded or reposted by the people you follow, newest first",
                   description="Only tracks you can read (of your guilds) appear, each once, at its newest upload "
                   "or repost (`reposted_by` names the newest reposter when a repost is the newest).")
    def get(self, request):
        found = selectors.stream(request.user, page=_page(request))
        return Response(payloads.stream_page(found))


class TrendingView(APIView):
    permission_classes = [SignedOutMayRead]

    @extend_schema(responses=s.TrackOut(many=True), summary="The tracks you can read, by trending score",
                   description="Plays, likes and reposts of the last 7 days, each halved every 36 hours of age; "
                   "recomputed every 10 minutes.")
    def get(self, request):
        return Response([payloads.track_payload(t) for t in selectors.trending_tracks(request.user)])


class SearchView(APIView):
    permission_classes = [SignedOutMayRead]

    @extend_schema(parameters=[OpenApiParameter("q", str, required=True,
                                                description="Words of a title, tag, genre or artist name.")],
                   responses=s.TrackOut(many=True), summary="Search the tracks you can read, best match first")
    def get(self, request):
        found = selectors.search_tracks(request.user, request.query_params.get("q", ""))
        return Response([payloads.track_payload(t) for t in found])


# --- playlists ------------------------------------------------------------------------------

def _playlist(request, playlist_id, status_code=status.HTTP_200_OK):
    playlist = selectors.visible_playlist(request.user, playlist_id)
    entries = selectors.playlist_entries(request.user, playlist)
    return Response(payloads.playlist_payload(playlist, entries=entries), status=status_code)


def _playlist_body(request):
    """A playlist's fields as sent. The services read None as "not given" (the default, or no
    change), so an explicit null, which the schema does not allow, is refused here."""
    data = body_object(request)
    for name in ("title", "description", "is_public"):
        if name in data and data[name] is None:
            raise ValidationFailed.field(name, gettext("This field may not be null."))
    return data


class PlaylistsView(APIView):
    @extend_schema(responses=s.PlaylistOut(many=True), summary="Your playlists, most recently changed first")
    def get(self, request):
        return Response([payloads.playlist_payload(p) for p in selectors.own_playlists(request.user)])

    @extend_schema(request=s.PlaylistIn, responses={201: s.PlaylistDetailOut}, summary="Create a playlist")
    def post(self, request):
        data = _playlist_body(request)
        playlist = services.create_playlist(owner=request.user, title=data.get("title"),
                                            description=data.get("description", ""), is_public=data.get("is_public"))
        return _playlist(request, playlist.id, status.HTTP_201_CREATED)


class PlaylistView(APIView):
    permission_classes = [SignedOutMayRead]

    @extend_schema(responses=s.PlaylistDetailOut, summary="A playlist and the tracks of it you can read",
                   description="A private playlist is 404 for everyone but its owner.")
    def get(self, request, playlist_id):
        return _playlist(request, playlist_id)

    @extend_schema(request=s.PlaylistPatch, responses=s.PlaylistDetailOut, summary="Change a playlist (its owner)")
    def patch(self, request, playlist_id):
        data = _playlist_body(request)
        services.update_playlist(actor=request.user, playlist_id=playlist_id, title=data.get("title"),
                                 description=data.get("description"), is_public=data.get("is_public"))
        return _playlist(request, playlist_id)

    @extend_schema(responses=NO_CONTENT, summary="Delete a playlist (its owner; the tracks stay)")
    def delete(self, request, playlist_id):
        services.delete_playlist(actor=request.user, playlist_id=playlist_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PlaylistTracksView(APIView):
    @extend_schema(request=s.PlaylistTrackIn, responses=s.PlaylistDetailOut,
                   summary="Append a track to your playlist (idempotent)",
                   description="Only a ready track you can read (404 otherwise); at most 500 tracks "
                   "(400 `playlist_full`).")
    def post(self, request, playlist_id):
        track_id = body_object(request).get("track_id")
        if not is_id(track_id):
            raise ValidationFailed.field("track_id", gettext("A track id is a whole number."))
        services.add_to_playlist(actor=request.user, playlist_id=playlist_id, track_id=track_id)
        return _playlist(request, playlist_id)


class PlaylistTrackView(APIView):
    @extend_schema(responses={200: s.PlaylistDetailOut}, summary="Take a track out of your playlist (idempotent)")
    def delete(self, request, playlist_id, track_id):
        services.remove_from_playlist(actor=request.user, playlist_id=playlist_id, track_id=track_id)
        return _playlist(request, playlist_id)


class PlaylistOrderView(APIView):
    @extend_schema(request=s.PlaylistOrderIn, responses=s.PlaylistDetailOut, summary="Reorder your playlist",
                   description="`entry_ids` names every entry you can see once; anything else is refused with "
                   "400 `bad_order` and nothing moves.")
    def put(self, request, playlist_id):
        services.reorder_playlist(actor=request.user, playlist_id=playlist_id,
                                  entry_ids=body_object(request).get("entry_ids"))
        return _playlist(request, playlist_id)


class UserPlaylistsView(APIView):
    permission_classes = [SignedOutMayRead]

    @extend_schema(responses=s.PlaylistOut(many=True), summary="A user's public playlists")
    def get(self, request, user_id):
        return Response([payloads.playlist_payload(p) for p in selectors.user_playlists(request.user, user_id)])
