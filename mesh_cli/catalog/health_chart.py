"""The health chart of a product page: an inline SVG, one column per recorded build, oldest on the left. The bar is
its data tests (passed, failed, other), the square under it whether it came within the SLA after the one before.
It is drawn at about the width of a phone's page (390 px) and never scales up; it scales down to its box (viewBox),
so it never runs wider than the page and its labels stay readable (12 units: about 12 px on a phone)."""

from __future__ import annotations

from html import escape
from typing import Any

from mesh_cli.catalog.display import listing, local_time

WIDTH, HEIGHT = 340, 136
LEFT, TOP, BARS, STRIP = 30, 8, 80, 12     # left margin, top, height of the bar area, height of the SLA strip
FAILED_AT_LEAST = 14                       # a failed test's segment is never a thin cap: at least this high
SLOTS = 12                                 # columns keep this width or less, however few builds there are


def _segments(tests: dict[str, int]) -> list[tuple[str, int]]:
    failed = sum(n for status, n in tests.items() if status in ("fail", "error", "runtime error"))
    other = sum(tests.values()) - failed - tests.get("pass", 0)
    return [("pass", tests.get("pass", 0)), ("other", other), ("fail", failed)]


def _title(entry: dict[str, Any], sla_hours: float | None) -> str:
    tests = listing([f"{n} {status}" for status, n in entry["tests"].items()], "no tests ran")
    built = "models built" if entry["built"] else "models did not build" + (
        f" ({entry['reason']})" if entry.get("reason") else "")
    gap = entry["hours_since_previous"]
    timing = ("" if gap is None else f"; {gap} h after the previous successful build"
              + (f" (SLA {sla_hours} h)" if sla_hours is not None else ""))
    origin = ("" if not entry.get("commit") else f"; commit {entry['commit']}"
              + (" with uncommitted changes" if entry.get("uncommitted") else ""))
    return f"{local_time(entry['at'])}: {'failed' if entry['status'] == 'failed' else 'succeeded'}; {built}; " \
           f"{tests}{timing}{origin}"


def render_health_svg(entries: list[dict[str, Any]], sla_hours: float | None) -> str:
    """The chart of `product_health()` entries; an empty string when there is no build to draw."""
    if not entries:
        return ""
    step = (WIDTH - LEFT - 4) / max(len(entries), SLOTS)
    most = max((sum(e["tests"].values()) for e in entries), default=0) or 1
    strip_y = TOP + BARS + 6
    parts = [f'<svg class="health" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
             f'aria-label="tests and freshness of the last {len(entries)} builds" '
             f'style="max-width:{WIDTH}px" xmlns="http://www.w3.org/2000/svg">',
             f'<text class="axis" x="{LEFT - 4}" y="{TOP + 10}" text-anchor="end">{most}</text>',
             f'<text class="axis" x="{LEFT - 4}" y="{TOP + BARS}" text-anchor="end">0</text>',
             f'<text class="axis" x="{LEFT - 4}" y="{strip_y + STRIP - 2}" text-anchor="end">SLA</text>',
             f'<line class="base" x1="{LEFT}" x2="{WIDTH - 4}" y1="{TOP + BARS}" y2="{TOP + BARS}"/>']
    for index, entry in enumerate(entries):
        x = LEFT + index * step + step * 0.15
        width = step * 0.7
        parts.append(f'<g class="run {entry["status"]}" data-at="{escape(entry["at"])}">'
                     f'<title>{escape(_title(entry, sla_hours))}</title>')
        if entry["status"] == "failed":   # the whole column says it, outlined: a failed build is no small mark
            parts.append(f'<rect class="failed-run" x="{x - step * 0.1:.1f}" y="{TOP}" '
                         f'width="{width + step * 0.2:.1f}" height="{BARS}"/>')
        y: float = TOP + BARS
        segments = _segments(entry["tests"])
        failed_height = max(FAILED_AT_LEAST, BARS * segments[-1][1] / most) if segments[-1][1] else 0.0
        others = sum(n for kind, n in segments if kind != "fail")
        scale = min(BARS / most, (BARS - failed_height) / others) if others else 0.0
        for kind, count in segments:
            if count:
                height = failed_height if kind == "fail" else count * scale
                y -= height
                parts.append(f'<rect class="{kind}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
                             f'height="{height:.1f}"/>')
        if not entry["built"]:
            parts.append(f'<text class="broken" x="{x + width / 2:.1f}" y="{TOP + BARS - 4}" '
                         'text-anchor="middle">✕</text>')
        timing = {True: "on-time", False: "late"}.get(entry["within_sla"], "unknown")
        sla = timing if entry["status"] == "success" else "no-build"
        parts.append(f'<rect class="sla {sla}" x="{x:.1f}" y="{strip_y}" width="{width:.1f}" height="{STRIP}"/></g>')
    span = local_time(entries[0]["at"]) + (f" → {local_time(entries[-1]['at'])}" if len(entries) > 1 else "")
    parts.append(f'<text class="axis" x="4" y="{HEIGHT - 6}">{escape(span)}</text>')
    parts.append("</svg>")
    return "".join(parts)
