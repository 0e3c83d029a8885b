"""A track's insights for its owner: plays, listeners, likes, reposts and comments per UTC day, and
the small SVG chart of the Insights page (drawn here, no chart library). Read from the rows the
social layer already keeps (a play counts once per listener per day, so a day's plays are its
listeners; over several days the listeners are counted once each)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import Track, TrackComment, TrackLike, TrackPlay, TrackRepost

DAYS = 30
MAX_DAYS = 365
CHART_WIDTH, CHART_HEIGHT = 600, 120


@dataclass
class Day:
    day: date
    plays: int = 0
    likes: int = 0
    reposts: int = 0
    comments: int = 0

    @property
    def listeners(self) -> int:
        return self.plays  # TrackPlay is one row per listener and day


@dataclass
class Insights:
    days: list[Day]
    listeners: int  # distinct listeners over the whole period

    @property
    def totals(self) -> dict:
        return {name: sum(getattr(d, name) for d in self.days) for name in ("plays", "likes", "reposts", "comments")}


def _per_day(rows, counts: dict, name: str) -> None:
    for row in rows:
        if row["day"] in counts:
            setattr(counts[row["day"]], name, row["n"])


def track_insights(track: Track, *, days: int = DAYS, today: date | None = None) -> Insights:
    """The last `days` UTC days, oldest first, today included."""
    days = max(1, min(days, MAX_DAYS))
    today = today or timezone.now().astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    counts = {first + timedelta(days=i): Day(first + timedelta(days=i)) for i in range(days)}
    plays = TrackPlay.objects.filter(track=track, day__gte=first, day__lte=today)
    _per_day(plays.values("day").annotate(n=Count("id")), counts, "plays")
    for model, name in ((TrackLike, "likes"), (TrackRepost, "reposts"), (TrackComment, "comments")):
        rows = (model.objects.filter(track=track, created_at__date__gte=first)
                .annotate(day=TruncDate("created_at", tzinfo=UTC)).values("day").annotate(n=Count("id")))
        _per_day(rows, counts, name)
    return Insights(days=list(counts.values()), listeners=plays.values("user_id").distinct().count())


def chart(found: Insights, *, width: int = CHART_WIDTH, height: int = CHART_HEIGHT) -> dict:
    """Bars of plays per day, as the template draws them in an <svg viewBox="0 0 width height">."""
    peak = max([d.plays for d in found.days] + [1])
    step = width / len(found.days)
    bars = []
    for i, d in enumerate(found.days):
        h = round(d.plays / peak * (height - 14), 1)
        bars.append({"x": round(i * step + 1, 1), "y": round(height - h, 1), "w": round(max(step - 2, 1), 1),
                     "h": h, "day": d.day.isoformat(), "plays": d.plays})
    return {"width": width, "height": height, "peak": peak, "bars": bars}
