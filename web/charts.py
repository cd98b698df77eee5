"""Inline SVG charts for the finance pages: pure functions, data in, markup out.

Values are integers (counts, or minor units of one currency); bar heights are computed in
integer pixels. Each bar carries a <title>, so hovering shows the exact figure without any
JavaScript, and the chart has a text description for screen readers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 720
HEIGHT = 160
LEFT = 56  # room for the axis labels, at least; wider when a label needs it
BOTTOM = 22  # room for the day labels
TOP = 8
RIGHT = 8
# Width of one character of a tick label (10 px system-ui), rounded up: labels are sized
# from it so they stay inside the frame.
CHAR_W = 7


@dataclass(frozen=True)
class Bar:
    label: str  # the day, e.g. "2026-03-10"
    value: int


def _scale(value: int, largest: int, pixels: int) -> int:
    if largest <= 0:
        return 0
    height = abs(value) * pixels // largest
    return max(height, 1) if value else 0


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    fmt: Callable[[int], str] = str,
    css_class: str = "chart",
) -> Markup:
    """Bars from a zero line; negative values hang below it. One bar per label, in order."""
    plot_h = HEIGHT - TOP - BOTTOM
    top = max([b.value for b in bars if b.value > 0] or [0])
    bottom = -min([b.value for b in bars if b.value < 0] or [0])
    axis_labels = [fmt(0), *([fmt(top)] if top else []), *([fmt(-bottom)] if bottom else [])]
    left = max(LEFT, max(len(label) for label in axis_labels) * CHAR_W + 8)
    plot_w = WIDTH - left - RIGHT
    span = top + bottom
    # The zero line sits between the positive and negative parts, in proportion.
    zero_y = TOP + (plot_h * top // span if span else plot_h)
    slot = plot_w // max(len(bars), 1)
    bar_w = max(slot - 2, 1)
    parts = [
        f'<svg class="{escape(css_class)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        f' xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{zero_y}" x2="{WIDTH - RIGHT}" y2="{zero_y}" class="axis"/>',
    ]
    if top:
        parts.append(
            f'<text x="{left - 4}" y="{TOP + 10}" text-anchor="end" class="tick">'
            f"{escape(fmt(top))}</text>"
        )
    if bottom:
        parts.append(
            f'<text x="{left - 4}" y="{HEIGHT - BOTTOM}" text-anchor="end" class="tick">'
            f"{escape(fmt(-bottom))}</text>"
        )
    parts.append(
        f'<text x="{left - 4}" y="{zero_y + 4}" text-anchor="end" class="tick">{escape(fmt(0))}'
        "</text>"
    )
    for index, bar in enumerate(bars):
        x = left + index * slot + 1
        height = _scale(bar.value, span, plot_h)
        y = zero_y - height if bar.value >= 0 else zero_y
        kind = "neg" if bar.value < 0 else "pos"
        parts.append(
            f'<rect x="{x}" y="{y}" width="{bar_w}" height="{height}" class="bar {kind}">'
            f"<title>{escape(bar.label)}: {escape(fmt(bar.value))}</title></rect>"
        )
        if index % 5 == 0 or index == len(bars) - 1:
            day = bar.label[5:]
            # Centred under its bar, but never past either edge of the frame.
            half = len(day) * CHAR_W // 2
            centre = min(max(x + bar_w // 2, half), WIDTH - RIGHT - half)
            parts.append(
                f'<text x="{centre}" y="{HEIGHT - 6}" text-anchor="middle"'
                f' class="tick">{escape(day)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
