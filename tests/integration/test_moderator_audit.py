"""Every moderator's act on someone else's content or person is in the guild's audit log, as the
log promises: deleting someone's message, pinning, thread moderation, server mute and deafen,
moving and disconnecting in voice, deleting someone's track or comment, renaming a member. Acting
on one's own content (deleting one's message, archiving one's thread) is not moderation and
writes nothing. The entries keep ids and the names they had, and read on the audit log API."""
from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from apps.chat import services as chat
from apps.chat import thread_services
from apps.core.errors import MissingPermission, NotFound
from apps.dms import services as dms
from apps.guilds import services as guilds
from apps.guilds.models import AuditLogEntry, Channel
from apps.guilds.permissions import Permission
from apps.rtc import services as rtc
from apps.tracks import services as tracks
from tests.factories import UserFactory, add_member, add_member_with, make_track
from tests.integration.test_gateway import everyone, member, send, text_channel

pytestmark = pytest.mark.django_db(transaction=True)
P = Permission


def log(guild) -> list[tuple[str, int | None]]:
    return list(AuditLogEntry.objects.filter(guild=guild).exclude(action__in=["guild_create", "channel_create"])
                .order_by("id").values_list("action", "actor_id"))


def audit_api(user, guild, **params) -> list[dict]:
    api = APIClient()
    api.force_authenticate(user)
    r = api.get(f"/api/guilds/{guild.id}/audit-log", params)
    assert r.status_code == 200, r.json()
    return r.json()["results"]


def moderator(guild, *permissions, name="mod"):
    return add_member_with(guild, *permissions, user=UserFactory(username=name)).user


# --- chat ---------------------------------------------------------------------------------------------

def test_deleting_someone_elses_message_is_audited_ones_own_is_not(guild, owner, alice, bob):
    general = text_channel(guild)
    chat.delete_message(actor=alice, message=send(alice, general, "typo"))
    assert log(guild) == []
    mod = moderator(guild, P.MANAGE_MESSAGES)
    rude = send(bob, general, "rude words")
    rude_id = rude.id
    chat.delete_message(actor=mod, message=rude)
    assert log(guild) == [("message_delete", mod.id)]
    [e] = audit_api(owner, guild, action="message_delete")
    assert (e["actor"]["username"], e["target_type"], e["target_id"]) == ("mod", "channel", general.id)
    assert e["changes"] == {"message_id": rude_id, "channel_id": general.id, "channel": "general",
                            "author_id": bob.id, "author": "bob"}
    page = Client()
    page.force_login(owner)
    html = page.get(f"/guilds/{guild.id}/settings/audit-log?action=message_delete").content.decode()
    assert "message_delete" in html and "#general" in html and "bob" in html


def test_a_deleted_message_of_a_hidden_channel_stays_out_of_readers_logs(guild, owner, alice, bob):
    secret = guilds.create_channel(actor=owner, guild=guild, name="staff-room")
    guilds.set_overwrite(actor=owner, channel=secret, allow=0, deny=int(P.VIEW_CHANNEL), role=everyone(guild))
    guilds.set_overwrite(actor=owner, channel=secret, allow=int(P.VIEW_CHANNEL), deny=0, member=member(guild, bob))
    chat.delete_message(actor=owner, message=send(bob, secret, "between us"))
    reader = moderator(guild, P.VIEW_AUDIT_LOG, name="reader")
    assert [e["changes"]["channel"] for e in audit_api(owner, guild, action="message_delete")] == ["staff-room"]
    assert audit_api(reader, guild, action="message_delete") == []


def test_pins_in_a_guild_channel_are_audited_and_in_a_dm_they_are_not(guild, owner, alice, bob):
    general = text_channel(guild)
    msg = send(alice, general, "read the rules")
    mod = moderator(guild, P.MANAGE_MESSAGES)
    chat.pin_message(actor=mod, message=msg)
    chat.pin_message(actor=mod, message=msg)  # already pinned: nothing changes, nothing to log
    chat.unpin_message(actor=mod, message=msg)
    assert log(guild) == [("message_pin", mod.id), ("message_unpin", mod.id)]
    [pin] = audit_api(owner, guild, action="message_pin")
    assert (pin["target_type"], pin["target_id"], pin["changes"]["author"]) == ("message", msg.id, "alice")
    # Every recipient of a DM may pin: no guild, no moderator, no log.
    dm, _ = dms.open_dm(user=alice, recipient_id=bob.id)
    chat.pin_message(actor=bob, message=chat.send_message(author=alice, channel_id=dm.id, content="hey"))
    assert AuditLogEntry.objects.filter(action="message_pin").count() == 1


def test_thread_moderation_is_audited_and_a_creators_own_changes_are_not(guild, owner, alice, bob):
    general = text_channel(guild)
    start = send(alice, general, "plans for friday")
    thread = thread_services.create_thread(actor=alice, channel_id=general.id, message_id=start.id, name="Friday")
    thread_services.update_thread(actor=alice, thread_id=thread.pk, name="Friday night", archived=True)
    assert log(guild) == []
    mod = moderator(guild, P.MANAGE_THREADS)
    thread_services.update_thread(actor=mod, thread_id=thread.pk, archived=False, locked=True)
    thread_services.update_thread(actor=mod, thread_id=thread.pk, name="Friday night")  # unchanged: no entry
    thread_services.delete_thread(actor=mod, thread_id=thread.pk)
    assert log(guild) == [("thread_update", mod.id), ("thread_delete", mod.id)]
    update, delete = AuditLogEntry.objects.filter(action__startswith="thread_").order_by("id")
    assert (update.target_type, update.target_id) == ("channel", thread.pk)
    assert update.changes == {"thread_id": thread.pk, "thread": "Friday night", "parent_id": general.id,
                              "creator_id": alice.id, "creator": "alice", "archived": False, "locked": True}
    assert (delete.target_type, delete.target_id, delete.changes["thread"]) == ("channel", general.id, "Friday night")


# --- voice ----------------------------------------------------------------------------------------------

@pytest.fixture
def voice(guild):
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter("smartc:voice:*"):
        client.delete(key)
    return Channel.objects.get(guild=guild, type="voice")


def test_voice_moderation_of_others_is_audited_of_oneself_it_is_not(guild, owner, alice, voice):
    lounge = guilds.create_channel(actor=owner, guild=guild, name="Lounge", type="voice")
    mod = moderator(guild, P.MUTE_MEMBERS, P.DEAFEN_MEMBERS, P.MOVE_MEMBERS)
    rtc.join_voice(user=alice, session_id="alice-tab", channel_id=voice.id)
    rtc.join_voice(user=mod, session_id="mod-tab", channel_id=voice.id)
    rtc.server_mute(actor=mod, guild_id=guild.id, user_id=mod.id, mute=True)  # oneself: not moderation
    assert log(guild) == []
    rtc.server_mute(actor=mod, guild_id=guild.id, user_id=alice.id, mute=True)
    rtc.server_mute(actor=mod, guild_id=guild.id, user_id=alice.id, mute=True)  # no change, no entry
    rtc.server_deafen(actor=mod, guild_id=guild.id, user_id=alice.id, deaf=True)
    rtc.server_deafen(actor=mod, guild_id=guild.id, user_id=alice.id, deaf=False)
    rtc.server_mute(actor=mod, guild_id=guild.id, user_id=alice.id, mute=False)
    rtc.move_member(actor=mod, guild_id=guild.id, user_id=alice.id, channel_id=lounge.id)
    rtc.disconnect_member(actor=mod, guild_id=guild.id, user_id=alice.id)
    assert log(guild) == [(action, mod.id) for action in (
        "voice_mute", "voice_deafen", "voice_undeafen", "voice_unmute", "voice_move", "voice_disconnect")]
    move = AuditLogEntry.objects.get(action="voice_move")
    assert (move.target_type, move.target_id) == ("channel", voice.id)
    assert move.changes == {"user_id": alice.id, "username": "alice", "channel_id": voice.id, "channel": "General",
                            "to_channel_id": lounge.id, "to_channel": "Lounge"}
    assert AuditLogEntry.objects.get(action="voice_disconnect").target_id == lounge.id
    # A reader who cannot see where she was moved to does not read of the move.
    guilds.set_overwrite(actor=owner, channel=lounge, allow=0, deny=int(P.VIEW_CHANNEL), role=everyone(guild))
    reader = moderator(guild, P.VIEW_AUDIT_LOG, name="reader")
    assert [e["action"] for e in audit_api(owner, guild, action="voice_move")] == ["voice_move"]
    assert audit_api(reader, guild, action="voice_move") == []


def test_a_moderator_controlling_someone_elses_listening_party_is_audited(guild, owner, alice, voice):
    song = make_track(guild, owner, title="Night Drive", duration_ms=20_000)
    mod = moderator(guild, P.MOVE_MEMBERS)
    rtc.join_voice(user=alice, session_id="alice-tab", channel_id=voice.id)
    rtc.join_voice(user=mod, session_id="mod-tab", channel_id=voice.id)

    def party(user, session, action, **kw):
        return rtc.listening_party(user=user, session_id=session, guild_id=guild.id, action=action, **kw)

    party(alice, "alice-tab", "start", track_id=song.id)
    party(alice, "alice-tab", "pause")  # the host's own party: not moderation
    assert log(guild) == []
    party(mod, "mod-tab", "stop")
    assert log(guild) == [("listening_party_control", mod.id)]
    e = AuditLogEntry.objects.get(action="listening_party_control")
    assert (e.target_type, e.target_id) == ("channel", voice.id)
    assert e.changes == {"user_id": alice.id, "username": "alice", "channel_id": voice.id, "channel": "General",
                         "action": "stop", "track_id": song.id, "track": "Night Drive"}


# --- tracks ---------------------------------------------------------------------------------------------

def test_deleting_someone_elses_track_or_comment_is_audited_ones_own_is_not(guild, owner, alice, bob):
    own = make_track(guild, alice, title="Demo")
    tracks.delete_track(actor=alice, track=own)
    song = make_track(guild, alice, title="Night Drive")
    mine = tracks.comment_on_track(author=bob, track_id=song.id, body="nice", position_ms=0)
    tracks.delete_track_comment(actor=bob, track_id=song.id, comment_id=mine.id)
    assert log(guild) == []
    rude = tracks.comment_on_track(author=bob, track_id=song.id, body="rude", position_ms=0)
    mod = moderator(guild, P.MANAGE_TRACKS, P.MANAGE_MESSAGES)
    tracks.delete_track_comment(actor=mod, track_id=song.id, comment_id=rude.id)
    song_id = song.id
    tracks.delete_track(actor=mod, track=song)
    assert log(guild) == [("track_comment_delete", mod.id), ("track_delete", mod.id)]
    comment, track = AuditLogEntry.objects.filter(action__startswith="track_").order_by("id")
    assert comment.changes == {"comment_id": rude.id, "track_id": song_id, "name": "Night Drive",
                               "author_id": bob.id, "author": "bob"}
    assert (track.target_type, track.target_id) == ("track", song_id)
    assert track.changes == {"track_id": song_id, "name": "Night Drive", "owner_id": alice.id, "owner": "alice"}


# --- members ------------------------------------------------------------------------------------------

def test_renaming_someone_else_is_audited_renaming_oneself_is_not(guild, owner, alice):
    guilds.set_nickname(actor=alice, member=member(guild, alice), nickname="Al")
    assert log(guild) == []
    mod = moderator(guild, P.MANAGE_NICKNAMES)
    guilds.set_nickname(actor=mod, member=member(guild, alice), nickname="Alice (please)")
    assert log(guild) == [("member_nickname", mod.id)]
    assert AuditLogEntry.objects.get(action="member_nickname").changes == {"user_id": alice.id,
                                                                            "nickname": "Alice (please)"}


def test_a_superuser_moderates_any_channel_with_the_owners_rank(guild, owner, alice):
    """Platform staff act where they are not members (the admin's doors): as the owner would,
    checked and audited the same."""
    root = UserFactory(is_staff=True, is_superuser=True)
    general = text_channel(guild)
    chat.delete_message(actor=root, message=send(alice, general, "spam"))
    assert log(guild) == [("message_delete", root.id)]
    outsider = add_member(guild).user
    with pytest.raises(MissingPermission):
        chat.delete_message(actor=outsider, message=send(alice, general, "kept"))
    # In a DM a superuser is a recipient like any other (no moderators there), or nobody.
    add_member(guild, user=root)
    dm, _ = dms.open_dm(user=alice, recipient_id=root.id)
    chat.pin_message(actor=root, message=chat.send_message(author=alice, channel_id=dm.id, content="hello"))
    other, _ = dms.open_dm(user=alice, recipient_id=outsider.id)
    with pytest.raises(NotFound):
        chat.delete_message(actor=root, message=chat.send_message(author=alice, channel_id=other.id, content="us"))
    assert log(guild) == [("message_delete", root.id)]
