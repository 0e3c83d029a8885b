"""Deleting one's account: asked on the "Your data" page with the password (and a second factor),
cancelled by signing in during the grace period, refused while one owns a guild, and carried out by
the beat job afterwards: nothing of the person is left where others could read it (API, pages,
search, inboxes, storage), and their messages read "Deleted user" or are gone, as they chose."""
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.services import block_user
from apps.chat import services as chat
from apps.chat.models import Attachment, Message, Reaction
from apps.dms import services as dms
from apps.guilds.models import Channel, Member
from apps.notifications.models import GuildSettings, PushSubscription
from apps.privacy import tasks
from apps.privacy.models import DeletionRequest
from apps.tracks import services as tracks
from apps.tracks.models import Follow, Playlist, Track
from tests.factories import PASSWORD, add_member, make_track

pytestmark = pytest.mark.django_db(transaction=True)
User = get_user_model()


def signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def general(guild):
    return Channel.objects.get(guild=guild, name="general")


def ask_deletion(client, **fields):
    return client.post("/accounts/data/delete", {"password": PASSWORD, "messages": "anonymise", **fields})


def end_grace_period(user):
    DeletionRequest.objects.filter(user=user).update(delete_after=timezone.now() - timedelta(seconds=1))


@pytest.fixture
def alices_life(guild, owner, alice, bob, s3):
    """alice, with something of each kind: messages, a DM and a group DM with bob, reactions, files
    in S3 (avatar, attachment, track), a playlist, likes, follows, a push device and settings."""
    channel = general(guild)
    default_storage.save(f"avatars/{alice.id}/face.png", ContentFile(b"png"))
    alice.avatar = f"avatars/{alice.id}/face.png"
    alice.avatar_thumbs = {"96": default_storage.save(f"avatars/{alice.id}/face-96.webp", ContentFile(b"webp"))}
    alice.save()
    said = chat.send_message(author=alice, channel_id=channel.id, content="alice's secret plan, hi @bob",)
    bobs = chat.send_message(author=bob, channel_id=channel.id, content="bob answers")
    mentioning = chat.send_message(author=bob, channel_id=channel.id, content=f"thanks <@{alice.id}>")
    chat.add_reaction(actor=alice, message=bobs, emoji="👍")
    att = Attachment.objects.create(channel=channel, uploader=alice, filename="notes.txt", content_type="text/plain",
                                    size=5, file=default_storage.save(f"attachments/{channel.id}/x/notes.txt",
                                                                      ContentFile(b"notes")))
    with_file = chat.send_message(author=alice, channel_id=channel.id, content="", attachment_ids=[att.id])
    dm, _ = dms.open_dm(user=alice, recipient_id=bob.id)
    in_dm = chat.send_message(author=alice, channel_id=dm.id, content="just between us")
    group = dms.create_group_dm(owner=alice, recipient_ids=[bob.id, add_member(guild).user_id])
    track = make_track(guild, alice, title="Alice's tune")
    track.original = default_storage.save(f"tracks/{track.key.hex}/original.mp3", ContentFile(b"mp3"))
    track.save()
    bobs_track = make_track(guild, bob, title="Bob's tune")
    tracks.like_track(user=alice, track_id=bobs_track.id)
    tracks.comment_on_track(author=alice, track_id=bobs_track.id, body="nice", position_ms=0)
    tracks.follow_user(follower=alice, user_id=bob.id)
    tracks.follow_user(follower=bob, user_id=alice.id)
    tracks.create_playlist(owner=alice, title="Alice's mix")
    PushSubscription.objects.create(user=alice, endpoint="https://push.example/alice", p256dh="k", auth="a")
    GuildSettings.objects.create(user=alice, guild=guild, level="all")
    return {"said": said, "mentioning": mentioning, "with_file": with_file, "dm": dm, "in_dm": in_dm,
            "group": group, "track": track, "bobs_track": bobs_track, "channel": channel}


def test_deletion_after_the_grace_period_leaves_nothing_of_the_person(guild, owner, alice, bob, api_as, s3,
                                                                      alices_life, settings):
    client = signed_in(alice)
    response = ask_deletion(client)
    assert response.status_code == 302
    request = DeletionRequest.objects.get(user=alice)
    days = (request.delete_after - timezone.now()).total_seconds() / 86400
    assert 13.9 < days <= settings.ACCOUNT_DELETION_GRACE_DAYS
    assert client.get("/accounts/data").status_code == 302  # signed out

    # Not yet due: the beat job leaves the account alone.
    assert tasks.delete_due_accounts() == {"deleted": 0, "waiting": 0}
    assert User.objects.filter(pk=alice.pk).exists()

    end_grace_period(alice)
    assert tasks.delete_due_accounts() == {"deleted": 1, "waiting": 0}
    assert not User.objects.filter(pk=alice.pk).exists()

    api = api_as(bob)
    channel = alices_life["channel"]
    history = api.get(f"/api/channels/{channel.id}/messages").json()
    kept = [m for m in history if m["id"] == alices_life["said"].id]
    assert kept and kept[0]["author"] is None and kept[0]["content"].startswith("alice's secret plan")
    assert all(m["id"] != alices_life["with_file"].id for m in history)  # only a file, now deleted
    [thanks] = [m for m in history if m["id"] == alices_life["mentioning"].id]
    assert "Alice" not in thanks["content_html"] and "@unknown" in thanks["content_html"]
    assert thanks["mentions"] == []
    assert all(r["user_id"] != alice.id for m in history for r in m.get("reactions", []) if "user_id" in r)
    assert not Reaction.objects.filter(user_id=alice.id).exists()

    # The DM stays for bob, history and all, from "Deleted user"; the group went on without alice.
    dm_messages = api.get(f"/api/channels/{alices_life['dm'].id}/messages").json()
    assert [(m["content"], m["author"]) for m in dm_messages] == [("just between us", None)]
    group_ids = [c["id"] for c in api.get("/api/users/@me/channels").json()]
    assert alices_life["group"].id in group_ids
    assert alice.username not in api.get("/api/users/@me/channels").content.decode()

    assert signed_in(bob).get(f"/channels/@me/{alices_life['dm'].id}").status_code == 200
    dm_list = signed_in(bob).get("/channels/@me", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Utilisateur supprimé" in dm_list and "Alice" not in dm_list

    # Search, inbox, members, tracks: no alice.
    found = api.get(f"/api/guilds/{guild.id}/messages/search", {"q": "secret plan"}).json()
    assert [r["author"] for r in found["results"]] == [None]
    inbox = api.get("/api/users/@me/mentions").json()
    assert [m["author"] for m in inbox if m["id"] == alices_life["said"].id] == [None]
    assert api.get(f"/api/guilds/{guild.id}/members/search", {"query": "alice"}).json() == []
    assert not Member.objects.filter(user_id=alice.id).exists()
    assert [t["title"] for t in api.get("/api/tracks/search", {"q": "tune"}).json()] == ["Bob's tune"]
    assert not Track.objects.filter(owner_id=alice.id).exists()
    bobs_track = api.get(f"/api/tracks/{alices_life['bobs_track'].id}").json()
    assert (bobs_track["like_count"], bobs_track["comment_count"]) == (0, 0)
    assert not Follow.objects.filter(follower_id=alice.id).exists()
    assert not Follow.objects.filter(followee_id=alice.id).exists()
    assert not Playlist.objects.filter(owner_id=alice.id).exists()
    assert not PushSubscription.objects.filter(user_id=alice.id).exists()
    assert not GuildSettings.objects.filter(user_id=alice.id).exists()

    # The pages: the channel shows the kept message, and nothing names alice.
    page = signed_in(bob).get(f"/guilds/{guild.id}/channels/{channel.id}").content.decode()
    assert "alice" not in page.lower().replace("alice's secret plan", "")
    # Storage: her avatar, attachment and track are gone from S3; bob's things stay.
    assert [k for k in s3.keys() if str(alice.id) in k.split("/")[1:2] or "notes" in k or
            alices_life["track"].key.hex in k] == []
    # She cannot sign in any more.
    assert not Client().login(username="alice", password=PASSWORD)


def test_messages_are_removed_when_the_member_chose_so(guild, alice, bob, api_as, alices_life):
    ask_deletion(signed_in(alice), messages="remove")
    end_grace_period(alice)
    tasks.delete_due_accounts()
    assert not Message.objects.filter(content__in=["alice's secret plan, hi @bob", "just between us"]).exists()
    api = api_as(bob)
    assert [m["content"] for m in api.get(f"/api/channels/{alices_life['channel'].id}/messages").json()] == [
        "bob answers", f"thanks <@{alice.id}>"]
    assert api.get(f"/api/guilds/{guild.id}/messages/search", {"q": "secret"}).json()["total"] == 0
    assert all(m["author"] for m in api.get("/api/users/@me/mentions").json())


def test_signing_in_during_the_grace_period_cancels_with_a_notice(alice):
    client = signed_in(alice)
    ask_deletion(client)
    assert DeletionRequest.objects.filter(user=alice).exists()
    response = Client().post("/accounts/login", {"username": "alice", "password": PASSWORD}, follow=True,
                             HTTP_ACCEPT_LANGUAGE="fr")
    assert "ton compte ne sera pas supprimé" in response.content.decode()
    assert not DeletionRequest.objects.filter(user=alice).exists()
    end_grace_period(alice)
    tasks.delete_due_accounts()
    assert User.objects.filter(pk=alice.pk).exists()


def test_an_owner_must_hand_over_their_guilds_first(guild, owner):
    client = signed_in(owner)
    response = ask_deletion(client)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Test Guild" in html and "transfer it to another member or delete it first" in html
    assert not DeletionRequest.objects.exists()
    assert client.get("/accounts/data").status_code == 200  # still signed in


def test_a_wrong_password_or_a_missing_second_factor_changes_nothing(alice):
    client = signed_in(alice)
    response = ask_deletion(client, password="not it")
    assert response.status_code == 400 and "Your password is wrong." in response.content.decode()
    device = TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    response = ask_deletion(client)
    assert response.status_code == 400 and "enter a code" in response.content.decode()
    response = ask_deletion(client, otp="000000")
    assert response.status_code == 400 and "That code is not valid." in response.content.decode()
    assert not DeletionRequest.objects.exists()
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    assert ask_deletion(client, otp=code).status_code == 302
    assert DeletionRequest.objects.filter(user=alice).exists()


def test_a_guild_acquired_during_the_grace_period_holds_the_deletion(guild, owner, alice):
    ask_deletion(signed_in(alice))
    guild.owner = alice
    guild.save()
    end_grace_period(alice)
    assert tasks.delete_due_accounts() == {"deleted": 0, "waiting": 1}
    assert User.objects.filter(pk=alice.pk).exists()
    assert Member.objects.filter(user=alice).exists()


def test_a_blocked_dm_partner_is_deleted_without_trouble(guild, alice, bob):
    dm, _ = dms.open_dm(user=alice, recipient_id=bob.id)
    chat.send_message(author=bob, channel_id=dm.id, content="bye")
    block_user(user=alice, target_id=bob.id)
    ask_deletion(signed_in(alice))
    end_grace_period(alice)
    assert tasks.delete_due_accounts()["deleted"] == 1
    assert Message.objects.filter(channel=dm, author=bob).exists()
