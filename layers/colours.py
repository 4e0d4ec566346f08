"""Colour arithmetic for symbology: WCAG contrast of text on a fill, and how far apart two
colours look (CIE76 ΔE in Lab), so legends can be checked for readable, distinct classes."""

from __future__ import annotations

import math

INK_DARK = "#1a1a1a"
INK_LIGHT = "#ffffff"
AA_TEXT = 4.5  # WCAG 2 AA, normal-size text


def rgb(hex_colour: str) -> tuple[float, float, float]:
    """#rrggbb or #rgb as 0..1 floats."""
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(ch * 2 for ch in h)
    if len(h) != 6:
        raise ValueError(f"not a #rrggbb colour: {hex_colour!r}")
    r, g, b = (int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return r, g, b


def to_hex(colour: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(max(0.0, min(1.0, c)) * 255):02x}" for c in colour)


def blend(top: str, under: str, opacity: float) -> str:
    """`top` drawn at `opacity` over `under` (what the eye sees of a translucent fill)."""
    a, b = rgb(top), rgb(under)
    return to_hex(tuple(opacity * x + (1 - opacity) * y for x, y in zip(a, b, strict=True)))


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance."""
    r, g, b = (_linear(c) for c in rgb(hex_colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def ink_on(fill: str) -> str:
    """The text colour that reads best on `fill`: near-black or white."""
    return INK_DARK if contrast(INK_DARK, fill) >= contrast(INK_LIGHT, fill) else INK_LIGHT


def lab(hex_colour: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65)."""
    r, g, b = (_linear(c) for c in rgb(hex_colour))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def delta_e(a: str, b: str) -> float:
    """CIE76 colour difference: about 2.3 is just noticeable; classes need far more."""
    return math.dist(lab(a), lab(b))


def darken_for(ink: str, fill: str, opacity: float = 1.0, under: str = "#ffffff") -> str:
    """`fill`, darkened just enough that `ink` text on it (drawn at `opacity` over `under`)
    reaches WCAG AA."""
    r, g, b = rgb(fill)
    for step in range(21):
        k = 1 - step * 0.05
        candidate = to_hex((r * k, g * k, b * k))
        if contrast(ink, blend(candidate, under, opacity)) >= AA_TEXT:
            return candidate
    return to_hex((0.0, 0.0, 0.0))
