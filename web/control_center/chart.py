"""The power chart of a connector: samples over a sliding window, drawn as SVG paths.

The page's SVG uses a fixed ``viewBox`` (``WIDTH`` x ``HEIGHT``) stretched to the card; this
module only computes path strings and axis values (tested on CPython), the view sets them.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

__all__ = [
    "HEIGHT",
    "WIDTH",
    "WINDOW_S",
    "ChartPaths",
    "PowerSeries",
    "Sample",
    "format_axis_kw",
    "nice_ceiling",
    "render",
    "span_for",
]

WIDTH = 600.0
HEIGHT = 160.0
WINDOW_S = 600.0
WINDOWS_S = (60.0, 120.0, 300.0, 600.0)
"""The x axis grows through these spans as history accumulates, up to ``WINDOW_S``."""
MIN_SCALE_W = 1000.0


@dataclass(frozen=True, slots=True)
class Sample:
    t: float  # monotonic seconds
    power_w: float
    limit_w: float | None


class PowerSeries:
    """The samples of the last ``window_s`` seconds (plus one older, so lines start at the edge)."""

    def __init__(self, window_s: float = WINDOW_S, max_samples: int = 1200) -> None:
        self.window_s = window_s
        self._samples: deque[Sample] = deque(maxlen=max_samples)

    def __len__(self) -> int:
        return len(self._samples)

    def add(self, t: float, power_w: float, limit_w: float | None) -> None:
        samples = self._samples
        if samples and t < samples[-1].t:
            samples.clear()  # time went backwards (a new runtime): start over
        samples.append(Sample(t, max(0.0, power_w), limit_w))
        while len(samples) > 2 and samples[1].t < t - self.window_s:
            samples.popleft()

    def samples(self) -> list[Sample]:
        return list(self._samples)

    def clear(self) -> None:
        self._samples.clear()


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^n that is >= ``value`` (for the axis top)."""
    if not value > 0 or not math.isfinite(value):
        return 1.0
    exponent = math.floor(math.log10(value))
    base = 10.0**exponent
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        candidate = step * base
        if candidate >= value * (1 - 1e-12):
            return candidate
    return 10.0 * base


def format_axis_kw(watts: float) -> str:
    """Axis values of nice_ceiling steps: "25 kW", "12.5 kW", "0.25 kW" (no trailing zeros)."""
    kw = watts / 1000.0
    text = f"{kw:.2f}".rstrip("0").rstrip(".")
    return f"{text} kW"


def span_for(samples: list[Sample], now: float) -> float:
    """The x-axis span: the smallest of WINDOWS_S that holds the history (at most WINDOW_S)."""
    if not samples:
        return WINDOWS_S[0]
    history = now - samples[0].t
    return next((span for span in WINDOWS_S if span >= history), WINDOWS_S[-1])


def format_span(seconds: float) -> str:
    minutes = seconds / 60.0
    return f"\u2212{minutes:g} min"


@dataclass(frozen=True, slots=True)
class ChartPaths:
    power: str
    area: str
    limit: str
    y_max_w: float
    window_s: float = WINDOW_S

    @property
    def top_label(self) -> str:
        return format_axis_kw(self.y_max_w)

    @property
    def mid_label(self) -> str:
        return format_axis_kw(self.y_max_w / 2)

    @property
    def span_label(self) -> str:
        return format_span(self.window_s)


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def render(
    samples: list[Sample],
    now: float,
    *,
    window_s: float | None = None,
    width: float = WIDTH,
    height: float = HEIGHT,
    scale_floor_w: float = MIN_SCALE_W,
) -> ChartPaths:
    """SVG path data for the power line (linear), its area and the limit (steps, gaps = none).

    Without ``window_s`` the span adapts to the history (``span_for``).
    """
    if window_s is None:
        window_s = span_for(samples, now)
    start = now - window_s
    visible = [s for s in samples if s.t >= start]
    if samples and len(visible) < len(samples):
        visible.insert(0, samples[len(samples) - len(visible) - 1])  # enters from the left edge
    peak = max([scale_floor_w, *(s.power_w for s in visible)])
    limits = [s.limit_w for s in visible if s.limit_w is not None]
    if limits:
        peak = max(peak, max(limits))
    y_max = nice_ceiling(peak * 1.05)

    def x(t: float) -> float:
        return min(width, max(0.0, (t - start) / window_s * width))

    def y(watts: float) -> float:
        return height - min(1.0, max(0.0, watts / y_max)) * height

    if not visible:
        return ChartPaths("", "", "", y_max, window_s)
    points = [(x(s.t), y(s.power_w)) for s in visible]
    last_x = x(now)
    if last_x > points[-1][0]:
        points.append((last_x, points[-1][1]))  # hold the latest reading up to "now"
    power = "M" + " L".join(f"{_num(px)},{_num(py)}" for px, py in points)
    area = f"{power} L{_num(points[-1][0])},{_num(height)} L{_num(points[0][0])},{_num(height)} Z"

    # The limit holds from one sample to the next: horizontal runs, vertical steps, gaps = none.
    segments: list[str] = []
    run: list[str] = []
    level: str | None = None
    end = ""
    for index, sample in enumerate(visible):
        end_x = x(visible[index + 1].t) if index + 1 < len(visible) else last_x
        if sample.limit_w is None:
            if run:
                segments.append(" ".join([*run, f"H{end}"]))
            run, level = [], None
            continue
        new_level = _num(y(sample.limit_w))
        if not run:
            run.append(f"M{_num(x(sample.t))},{new_level}")
        elif new_level != level:
            run.extend((f"H{end}", f"V{new_level}"))
        level, end = new_level, _num(end_x)
    if run:
        segments.append(" ".join([*run, f"H{end}"]))
    return ChartPaths(power, area, " ".join(segments), y_max, window_s)
