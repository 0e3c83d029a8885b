"""Reads of threads: a channel's threads, the active ones under many channels, members, and the
summaries shown on starter messages."""
from __future__ import annotations

from django.db.models import Count, QuerySet

from apps.guilds.models import Channel

from .models import Message, Thread, ThreadMember
from .payloads import thread_summary

THREAD_LIST_MAX = 100


def _threads() -> QuerySet[Thread]:
    return Thread.objects.select_related("channel").annotate(member_count=Count("members"))


def threads_of(channel: Channel, *, archived: bool = False, limit: int = 50) -> list[Thread]:
    """A channel's active (or archived) threads, most recently active first."""
    return list(_threads().filter(channel__parent=channel, archived=archived)
                .order_by("-last_message_at", "-pk")[:limit])


def active_threads(channel_ids) -> list[Thread]:
    """Every active thread under the given channels (what READY lists)."""
    return list(_threads().filter(channel__parent_id__in=list(channel_ids), archived=False)
                .order_by("-last_message_at", "-pk"))


def thread_members(thread: Thread) -> list[ThreadMember]:
    return list(ThreadMember.objects.filter(thread=thread).select_related("user"))


def is_member(thread: Thread, user) -> bool:
    return ThreadMember.objects.filter(thread=thread, user=user).exists()


def attach_thread_summaries(messages: list[Message]) -> None:
    """Set `thread_summary` on the messages that started a thread (one query for a page)."""
    ids = [m.id for m in messages]
    if not ids:
        return
    threads = Thread.objects.select_related("channel").filter(starter_message_id__in=ids)
    found = {t.starter_message_id: t for t in threads}
    for m in messages:
        thread = found.get(m.id)
        m.thread_summary = thread_summary(thread) if thread else None
