"""Charts as inline SVG, drawn by the gateway itself: no JavaScript, no CDN, no library.

Only numbers and escaped labels go into the markup; colours are presentation attributes (the
console's Content-Security-Policy forbids inline styles). Each bar or point has a <title>,
so the value shows on hover and screen readers read it.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

INK, MUTED, ACCENT, SECOND = "#1d2733", "#5b6775", "#005a9c", "#f3b400"
PAD_LEFT, PAD_BOTTOM, PAD_TOP = 36, 22, 8


def _number(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}".replace(".", ",")


def _frame(width: int, height: int, title: str, top: float, body: list[str]) -> Markup:
    """The SVG element with its title, the y axis' top value and the body."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line x1="{PAD_LEFT}" y1="{height - PAD_BOTTOM}" x2="{width}" '
        f'y2="{height - PAD_BOTTOM}" stroke="{MUTED}" stroke-width="1"/>',
        f'<text x="{PAD_LEFT - 4}" y="{PAD_TOP + 8}" text-anchor="end" font-size="10" '
        f'fill="{MUTED}">{_number(top)}</text>',
        f'<text x="{PAD_LEFT - 4}" y="{height - PAD_BOTTOM}" text-anchor="end" font-size="10" '
        f'fill="{MUTED}">0</text>',
        *body,
        "</svg>",
    ]
    return Markup("".join(parts))


def bar_chart(
    values: Sequence[float],
    labels: Sequence[str],
    title: str,
    previous: Sequence[float] | None = None,
    width: int = 640,
    height: int = 170,
) -> Markup:
    """Vertical bars with a label under each; `previous` as thin bars beside them."""
    top = max([*values, *(previous or []), 1.0])
    plot_w, plot_h = width - PAD_LEFT - 4, height - PAD_BOTTOM - PAD_TOP
    step = plot_w / max(1, len(values))
    body: list[str] = []
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        x = PAD_LEFT + 2 + i * step
        for offset, share, number, colour, name in (
            (0.0, 0.62, value, ACCENT, "Zeitraum"),
            (0.62, 0.28, previous[i] if previous else None, SECOND, "Vorzeitraum"),
        ):
            if number is None:
                continue
            h = plot_h * number / top
            body.append(
                f'<rect x="{x + step * offset:.1f}" y="{PAD_TOP + plot_h - h:.1f}" '
                f'width="{max(1.0, step * share):.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(label)}: {_number(number)} ({name})</title></rect>"
            )
        if len(values) <= 31 or i % 2 == 0:
            body.append(
                f'<text x="{x + step * 0.45:.1f}" y="{height - 8}" text-anchor="middle" '
                f'font-size="10" fill="{INK}">{escape(label)}</text>'
            )
    return _frame(width, height, title, top, body)


def line_chart(
    series: dict[str, Sequence[float]],
    marks: Sequence[tuple[int, str]],
    title: str,
    width: int = 1280,
    height: int = 200,
) -> Markup:
    """One polyline per named series (accent, then yellow); `marks`: (index, label) ticks."""
    top = max([1.0, *(v for values in series.values() for v in values)])
    length = max((len(v) for v in series.values()), default=1)
    plot_w, plot_h = width - PAD_LEFT - 4, height - PAD_BOTTOM - PAD_TOP
    step = plot_w / max(1, length - 1)
    body: list[str] = []
    for index, label in marks:
        x = PAD_LEFT + index * step
        body.append(
            f'<line x1="{x:.1f}" y1="{PAD_TOP}" x2="{x:.1f}" y2="{height - PAD_BOTTOM}" '
            f'stroke="#d5dbe2" stroke-width="1"/><text x="{x + 2:.1f}" y="{height - 8}" '
            f'font-size="10" fill="{INK}">{escape(label)}</text>'
        )
    for (name, values), colour in zip(series.items(), (ACCENT, SECOND), strict=False):
        points = " ".join(
            f"{PAD_LEFT + i * step:.1f},{PAD_TOP + plot_h - plot_h * v / top:.1f}"
            for i, v in enumerate(values)
        )
        body.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5">'
            f"<title>{escape(name)}</title></polyline>"
        )
    return _frame(width, height, title, top, body)
