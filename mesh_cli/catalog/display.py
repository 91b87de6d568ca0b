"""Values of the catalogue put into words for people: times as dates with their age ("2 h ago"), lists as
lists, consumers by kind, keys as labels. The site's templates use these as filters; the catalogue's data keeps
the raw values (ISO times, lists, mappings) for machines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from markupsafe import Markup, escape

NOTHING = "—"
CONSUMER_KINDS = {"domains": "domains", "accounts": "Snowflake accounts", "roles": "roles"}
_DAY = 24 * 60
# (below how many minutes, minutes per unit, unit): 59 min, 47 h, 59 days, 23 months, then years
_UNITS = ((60, 1, "min"), (2 * _DAY, 60, "h"), (60 * _DAY, _DAY, "days"), (730 * _DAY, 30 * _DAY, "months"),
          (float("inf"), 365 * _DAY, "years"))


def parse_time(value: Any) -> datetime | None:
    """A datetime from an ISO 8601 string or datetime (naive ones taken as UTC); None when it is not one."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and len(value) >= 10 and value[4:5] == "-":
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_time(value: Any) -> str:
    """`1 Dec 2026, 13:21 UTC` (a date alone: `30 Jun 2027`); the dash when there is no time."""
    moment = parse_time(value)
    if moment is None:
        return NOTHING if value in (None, "") else str(value)
    if (isinstance(value, date) and not isinstance(value, datetime)) or (isinstance(value, str) and len(value) == 10):
        return f"{moment.day} {moment:%b %Y}"
    moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%b %Y}, {moment:%H:%M} UTC"


def relative_age(value: Any, now: datetime) -> str:
    """How long ago (`2 h ago`, `3 days ago`, `just now`) or ahead (`in 7 months`) a time is, seen from `now`."""
    moment = parse_time(value)
    if moment is None:
        return ""
    minutes = (parse_time(now) or now).timestamp() / 60 - moment.timestamp() / 60
    ahead, minutes = minutes < 0, abs(minutes)
    if minutes < 1:
        return "just now"
    count, unit = next((int(minutes // size), name) for limit, size, name in _UNITS if minutes < limit)
    if count == 1 and unit.endswith("s"):
        unit = unit[:-1]
    return f"in {count} {unit}" if ahead else f"{count} {unit} ago"


def listing(values: Any, empty: str = "none") -> str:
    """A list as `a, b and c`; `empty` when there is nothing."""
    items = [human(v) for v in values or () if v not in (None, "")]
    if not items:
        return empty
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def consumers_text(value: Any) -> str:
    """Consumers by kind: `domains finance; roles FINANCE_DEPLOYER` (empty kinds left out), else `none`."""
    if not isinstance(value, dict):
        return listing(value if isinstance(value, list | tuple) else [value])
    kinds = [f"{CONSUMER_KINDS.get(kind, label(kind).lower())} {listing(names)}"
             for kind, names in value.items() if names]
    return "; ".join(kinds) or "none"


def label(key: str) -> str:
    """A data key as a label: `published_at` → `Published at`."""
    words = str(key).replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def human(value: Any) -> str:
    """Any catalogue value as text for people (times without microseconds, lists as lists, no Python literals)."""
    if value is None or value == "":
        return NOTHING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple | set):
        return listing(sorted(value) if isinstance(value, set) else value)
    if isinstance(value, dict):
        if set(value) & set(CONSUMER_KINDS):
            return consumers_text(value)
        return "; ".join(f"{label(k).lower()} {human(v)}" for k, v in value.items()) or NOTHING
    if parse_time(value) is not None and isinstance(value, str | datetime):
        return local_time(value)
    return str(value)


def when(value: Any, now: datetime) -> Markup:
    """A value for the site: a time as its date and its age, which the page's script keeps current (`data-since`);
    anything else as `human()` text."""
    moment = parse_time(value)
    if moment is None:
        return Markup(escape(human(value)))
    iso = moment.isoformat(timespec="seconds")
    return Markup('<time datetime="{0}" title="{0}">{1}</time> <span class="age" data-since="{0}">({2})</span>'
                  ).format(iso, local_time(value), relative_age(moment, now))
