"""Small server-side SVG charts: bar (grouped or stacked), horizontal bar, line and donut.

No JavaScript and no chart library: each function returns one ``<svg role="img">`` with a
``<title>`` and a ``<desc>`` that reads the data out for screen readers, a ``<title>`` tooltip
on every mark, axis labels and a legend. Every text is escaped. ``None`` comes back when
there is nothing to draw, so templates show an empty state instead of an empty frame.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#4f46e5", "#059669", "#d97706", "#dc2626", "#2563eb", "#7c3aed", "#0891b2", "#65a30d", "#db2777",
           "#64748b")
_ids = itertools.count(1)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    color: str = ""


def _fmt(value: float | None, fmt: str) -> str:
    if value is None:
        return "no data"
    return fmt.format(value)


def _ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    return [lo + (hi - lo) * i / count for i in range(count + 1)]


def nice_axis(peak: float, *, integers: bool = False) -> tuple[float, list[float]]:
    """A top value and gridlines at round steps (1, 2 or 5 x 10^n; whole numbers for counts)."""
    if peak <= 0:
        return 1.0, [0.0, 1.0]
    raw = peak / 5  # at most five steps
    exponent = math.floor(math.log10(raw))
    step = 10.0 ** (exponent + 1)
    for mult in (1, 2, 5, 10):
        if mult * 10**exponent >= raw - 1e-12:
            step = mult * 10.0**exponent
            break
    if integers:
        step = max(1.0, math.ceil(step))
    count = max(1, math.ceil(peak / step - 1e-9))
    return round(step * count, 10), [round(step * i, 10) for i in range(count + 1)]


def _integers(series: Sequence[Series]) -> bool:
    return all(float(v).is_integer() for s in series for v in s.values if v is not None)


def _color(series: Series, index: int) -> str:
    return series.color or PALETTE[index % len(PALETTE)]


def _open(width: int, height: int, title: str, desc: str, css: str = "chart") -> tuple[str, str]:
    n = next(_ids)
    tid, did = f"chart-{n}-title", f"chart-{n}-desc"
    head = (f'<svg class="{css}" role="img" aria-labelledby="{tid} {did}" viewBox="0 0 {width} {height}" '
            f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">'
            f'<title id="{tid}">{escape(title)}</title><desc id="{did}">{escape(desc)}</desc>')
    return head, "</svg>"


def _legend(series: Sequence[Series], x: float, y: float, width: float) -> str:
    if len(series) < 2:
        return ""
    out, cx = [], x
    for i, s in enumerate(series):
        label = escape(s.name)
        out.append(f'<rect x="{cx:.1f}" y="{y - 9:.1f}" width="10" height="10" rx="2" fill="{_color(s, i)}"/>'
                   f'<text x="{cx + 14:.1f}" y="{y:.1f}" class="legend">{label}</text>')
        cx += 24 + 7 * len(s.name)
        if cx > x + width:
            break
    return '<g aria-hidden="true">' + "".join(out) + "</g>"


def _describe(labels: Sequence[str], series: Sequence[Series], fmt: str) -> str:
    parts = []
    for s in series:
        points = "; ".join(f"{label}: {_fmt(v, fmt)}" for label, v in zip(labels, s.values, strict=False))
        parts.append(f"{s.name}: {points}" if len(series) > 1 or s.name else points)
    return ". ".join(parts)


def _has_data(series: Sequence[Series]) -> bool:
    return any(v not in (None, 0) for s in series for v in s.values)


def _label_every(count: int, plot_width: float, label_width: float = 54) -> int:
    return max(1, math.ceil(count * label_width / max(plot_width, 1)))


def bar_chart(*, title: str, labels: Sequence[str], series: Sequence[Series], y_label: str = "",
              value_format: str = "{:g}", stacked: bool = False, width: int = 640,
              height: int = 260) -> SafeString | None:
    """Vertical bars per label; several series side by side, or stacked."""
    if not labels or not _has_data(series):
        return None
    left, right, top, bottom = 48, 12, 28 if len(series) > 1 else 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    if stacked:
        peak = max(sum(v or 0 for v in column) for column in zip(*(s.values for s in series), strict=False))
    else:
        peak = max((v or 0) for s in series for v in s.values)
    y_max, ticks = nice_axis(peak, integers=_integers(series))
    head, tail = _open(width, height, title, _describe(labels, series, value_format))
    out = [head, _legend(series, left, 14, plot_w)]
    for tick in ticks:
        y = top + plot_h - plot_h * tick / y_max
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(value_format.format(tick))}</text>')
    slot = plot_w / len(labels)
    groups = 1 if stacked else len(series)
    bar_w = max(2.0, slot * 0.72 / groups)
    every = _label_every(len(labels), plot_w)
    for i, label in enumerate(labels):
        x0 = left + slot * i + (slot - bar_w * groups) / 2
        base = 0.0
        for j, s in enumerate(series):
            value = s.values[i] if i < len(s.values) else None
            if not value:
                continue
            h = plot_h * value / y_max
            x = x0 if stacked else x0 + j * bar_w
            y = top + plot_h - h - (plot_h * base / y_max if stacked else 0)
            tip = f"{label}: {s.name + ' ' if s.name else ''}{_fmt(value, value_format)}"
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" rx="2" '
                       f'fill="{_color(s, j)}"><title>{escape(tip)}</title></rect>')
            if stacked:
                base += value
        if i % every == 0:
            out.append(f'<text x="{left + slot * i + slot / 2:.1f}" y="{top + plot_h + 16}" '
                       f'text-anchor="middle">{escape(label)}</text>')
    out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" class="axis"/>')
    if y_label:
        out.append(f'<text x="12" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
                   f'transform="rotate(-90 12 {top + plot_h / 2:.1f})" class="axis-label">{escape(y_label)}</text>')
    out.append(tail)
    return mark_safe("".join(out))


def hbar_chart(*, title: str, labels: Sequence[str], values: Sequence[float], value_format: str = "{:g}",
               width: int = 640, bar_height: int = 22, color: str = PALETTE[0],
               note: Callable[[int], str] | None = None) -> SafeString | None:
    """One horizontal bar per label (names, topics): long labels stay readable."""
    if not labels or not any(values):
        return None
    label_w, right, gap = 160, 70, 8
    height = len(labels) * (bar_height + gap) + gap
    peak = max(values) or 1
    desc = "; ".join(f"{label}: {_fmt(v, value_format)}" for label, v in zip(labels, values, strict=False))
    head, tail = _open(width, height, title, desc)
    out = [head]
    plot_w = width - label_w - right
    for i, (label, value) in enumerate(zip(labels, values, strict=False)):
        y = gap + i * (bar_height + gap)
        w = max(1.0, plot_w * value / peak) if value else 0
        text = escape(label if len(label) <= 24 else label[:23] + "…")
        extra = f" {note(i)}" if note else ""
        out.append(f'<text x="{label_w - 8}" y="{y + bar_height * 0.7:.1f}" text-anchor="end">{text}</text>'
                   f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_height}" rx="3" fill="{color}">'
                   f'<title>{escape(f"{label}: {_fmt(value, value_format)}{extra}")}</title></rect>'
                   f'<text x="{label_w + w + 6:.1f}" y="{y + bar_height * 0.7:.1f}">'
                   f'{escape(_fmt(value, value_format))}</text>')
    out.append(tail)
    return mark_safe("".join(out))


def line_chart(*, title: str, labels: Sequence[str], series: Sequence[Series], y_label: str = "",
               value_format: str = "{:g}", y_min: float | None = None, y_max: float | None = None,
               width: int = 640, height: int = 260) -> SafeString | None:
    """Lines over the labels; ``None`` values leave gaps. Fixed ``y_min``/``y_max`` for bounded scores."""
    values = [v for s in series for v in s.values if v is not None]
    if not labels or not values:
        return None
    left, right, top, bottom = 48, 12, 28 if len(series) > 1 else 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    lo = min(0.0, min(values)) if y_min is None else y_min
    hi = nice_axis(max(values) - lo, integers=_integers(series))[0] + lo if y_max is None else y_max
    if hi <= lo:
        hi = lo + 1
    head, tail = _open(width, height, title, _describe(labels, series, value_format))
    out = [head, _legend(series, left, 14, plot_w)]
    for tick in _ticks(lo, hi):
        y = top + plot_h - plot_h * (tick - lo) / (hi - lo)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(value_format.format(tick))}</text>')
    if lo < 0 < hi:
        y0 = top + plot_h - plot_h * (0 - lo) / (hi - lo)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y0:.1f}" y2="{y0:.1f}" class="axis"/>')
    step = plot_w / max(1, len(labels) - 1) if len(labels) > 1 else 0
    every = _label_every(len(labels), plot_w)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = left + (step * i if len(labels) > 1 else plot_w / 2)
        return x, top + plot_h - plot_h * (min(max(v, lo), hi) - lo) / (hi - lo)

    for j, s in enumerate(series):
        color = _color(s, j)
        segment: list[str] = []
        paths: list[list[str]] = []
        for i, v in enumerate(s.values):
            if v is None:
                if segment:
                    paths.append(segment)
                segment = []
                continue
            x, y = xy(i, v)
            segment.append(f"{x:.1f},{y:.1f}")
        if segment:
            paths.append(segment)
        for path in paths:
            if len(path) > 1:
                out.append(f'<polyline points="{" ".join(path)}" fill="none" stroke="{color}" stroke-width="2.5" '
                           'stroke-linejoin="round" stroke-linecap="round"/>')
        for i, v in enumerate(s.values):
            if v is None:
                continue
            x, y = xy(i, v)
            tip = f"{labels[i]}: {s.name + ' ' if s.name else ''}{_fmt(v, value_format)}"
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}">'
                       f'<title>{escape(tip)}</title></circle>')
    for i, label in enumerate(labels):
        if i % every == 0:
            x, _ = xy(i, lo)
            out.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{escape(label)}</text>')
    if y_label:
        out.append(f'<text x="12" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
                   f'transform="rotate(-90 12 {top + plot_h / 2:.1f})" class="axis-label">{escape(y_label)}</text>')
    out.append(tail)
    return mark_safe("".join(out))


def donut_chart(*, title: str, labels: Sequence[str], values: Sequence[float], value_format: str = "{:g}",
                size: int = 220, center_label: str = "") -> SafeString | None:
    """Shares of a whole, with a legend that repeats the numbers and percentages."""
    total = sum(v for v in values if v and v > 0)
    if not labels or total <= 0:
        return None
    width = size + 220
    r_outer, r_inner = size / 2 - 6, size / 2 - 40
    cx = cy = size / 2
    desc = "; ".join(f"{label}: {_fmt(v, value_format)} ({100 * (v or 0) / total:.0f}%)"
                     for label, v in zip(labels, values, strict=False))
    head, tail = _open(width, size, title, desc)
    out = [head]
    angle = -math.pi / 2
    for i, (label, value) in enumerate(zip(labels, values, strict=False)):
        if not value or value <= 0:
            continue
        share = value / total
        color = PALETTE[i % len(PALETTE)]
        tip = escape(f"{label}: {_fmt(value, value_format)} ({100 * share:.0f}%)")
        if share >= 0.9999:
            out.append(f'<circle cx="{cx}" cy="{cy}" r="{(r_outer + r_inner) / 2}" fill="none" stroke="{color}" '
                       f'stroke-width="{r_outer - r_inner}"><title>{tip}</title></circle>')
            break
        end = angle + 2 * math.pi * share
        large = 1 if end - angle > math.pi else 0
        p = [(cx + r_outer * math.cos(angle), cy + r_outer * math.sin(angle)),
             (cx + r_outer * math.cos(end), cy + r_outer * math.sin(end)),
             (cx + r_inner * math.cos(end), cy + r_inner * math.sin(end)),
             (cx + r_inner * math.cos(angle), cy + r_inner * math.sin(angle))]
        out.append(f'<path d="M{p[0][0]:.2f},{p[0][1]:.2f} A{r_outer:.2f},{r_outer:.2f} 0 {large} 1 '
                   f'{p[1][0]:.2f},{p[1][1]:.2f} L{p[2][0]:.2f},{p[2][1]:.2f} A{r_inner:.2f},{r_inner:.2f} 0 '
                   f'{large} 0 {p[3][0]:.2f},{p[3][1]:.2f} Z" fill="{color}"><title>{tip}</title></path>')
        angle = end
    if center_label:
        out.append(f'<text x="{cx}" y="{cy + 5}" text-anchor="middle" class="center">{escape(center_label)}</text>')
    legend_y = max(16.0, cy - len(labels) * 11)
    for i, (label, value) in enumerate(zip(labels, values, strict=False)):
        y = legend_y + i * 22
        short = label if len(label) <= 22 else label[:21] + "…"
        pct = 100 * (value or 0) / total
        out.append(f'<rect x="{size + 10}" y="{y - 10:.1f}" width="12" height="12" rx="2" '
                   f'fill="{PALETTE[i % len(PALETTE)]}"/>'
                   f'<text x="{size + 28}" y="{y:.1f}" class="legend">{escape(short)} · '
                   f'{escape(_fmt(value, value_format))} ({pct:.0f}%)</text>')
    out.append(tail)
    return mark_safe("".join(out))
