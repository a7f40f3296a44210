"""Fitting text into a box: keep the layout's size if the text fits on one line, else
shrink it (down to the layout's minimum), else wrap it onto more lines (at the largest
size that fits), else refuse.

A paragraph (style ``justify``) instead keeps its size and wraps first, shrinking only if
its lines run out.

Chinese may break between any two characters, except that closing punctuation and the
name separator ``·`` never start a line and opening brackets never end one; runs of
ASCII (numbers, URLs, English words) break only at spaces unless a run is longer than a
whole line. A break just after ``·`` (between the parts of a transliterated name) is
preferred. Lines that are not justified are balanced, so that a wrapped name does not
leave one character alone on its last line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import ImageFont

from .errors import TextDoesNotFit
from .fonts import FontFace
from .layout import Style
from .view import FIELD_NAMES

NO_LINE_START = frozenset("·、，。．：；！？）》」』”’】〕〉…‥%)]},.;:!?")
NO_LINE_END = frozenset("（《「『“‘【〔〈([{")
PREFERRED_AFTER = frozenset("· ")
SIZE_STEP = 0.5
PREFER_FILL = 0.6
"""Break at a preferred point only if the line is at least this full."""

PxBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Run:
    """A piece of text drawn with its left baseline at (x, y)."""

    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Fitted:
    """Text placed in a box: the lines, the size chosen and where each piece goes."""

    text: str
    lines: tuple[str, ...]
    size: float
    """Points."""
    px: float
    """Pixels per em."""
    runs: tuple[Run, ...]
    height: float
    """Pixels from the box top to the bottom of the last line."""
    face: FontFace
    color: str
    tracking: float = 0.0
    """Pixels added after each character (the style's tracking at this size): a run of
    tracked text is drawn character by character, and a PDF says it once (``Tc``)."""

    @property
    def font(self) -> ImageFont.FreeTypeFont:
        return self.face.font(self.px)


def sizes(style: Style) -> list[float]:
    """Sizes to try, largest first, in steps of half a point."""
    out, size = [], style.size
    while size > style.min_size + 1e-9:
        out.append(size)
        size = round(size - SIZE_STEP, 3)
    return [*out, style.min_size]


def tokens(text: str) -> list[str]:
    """Pieces that never break inside (see the module note)."""
    pieces: list[str] = []
    for ch in text:
        prev = pieces[-1] if pieces else ""
        ascii_run = ch.isascii() and not ch.isspace() and prev and prev[-1].isascii() and not prev[-1].isspace()
        if prev and (ascii_run or ch in NO_LINE_START or prev[-1] in NO_LINE_END):
            pieces[-1] = prev + ch
        else:
            pieces.append(ch)
    return pieces


class _Measure:
    """Widths of tokens at one size, with tracking."""

    def __init__(self, width: Callable[[str], float], tracking_px: float) -> None:
        self.width = width
        self.tracking = tracking_px
        self.cache: dict[str, float] = {}

    def __call__(self, text: str) -> float:
        width = self.cache.get(text)
        if width is None:
            width = self.width(text) + self.tracking * max(len(text) - 1, 0)
            self.cache[text] = width
        return width

    def join(self, line: Sequence[str]) -> float:
        """Width of a line of tokens (tracking also between tokens)."""
        return sum(self(t) for t in line) + self.tracking * max(len(line) - 1, 0)

    def line(self, text: str) -> float:
        """Width of ``text`` as drawn: in one piece, or character by character when tracked."""
        if self.tracking:
            return sum(self(ch) for ch in text) + self.tracking * max(len(text) - 1, 0)
        return self(text)


def wrap(text: str, measure: _Measure, width: float, indent: float = 0.0) -> list[str]:
    """Greedy wrap of ``text`` into lines at most ``width`` wide (the first ``indent`` narrower)."""
    lines: list[str] = []
    line: list[str] = []
    pending = tokens(text)
    while pending:
        room = width - (indent if not lines else 0.0)
        token = pending.pop(0)
        if not line and token.isspace():
            continue
        if measure.join([*line, token]) <= room:
            line.append(token)
            continue
        if not line:  # one token wider than the line: split it by characters
            head, tail = _split_long(token, measure, room)
            lines.append(head)
            if tail:
                pending.insert(0, tail)
            continue
        keep, back = _break_point(line, measure, room)
        lines.append("".join(keep).rstrip())
        pending[:0] = [*back, token]
        line = []
    if line:
        lines.append("".join(line).rstrip())
    return lines


def _break_point(line: list[str], measure: _Measure, room: float) -> tuple[list[str], list[str]]:
    """Split a full line: after the last ``·`` or space if the line stays full enough."""
    for i in range(len(line) - 1, 0, -1):
        if line[i - 1][-1] in PREFERRED_AFTER and measure.join(line[:i]) >= PREFER_FILL * room:
            return line[:i], line[i:]
    return line, []


def _split_long(token: str, measure: _Measure, room: float) -> tuple[str, str]:
    cut = 1
    while cut < len(token) and measure(token[: cut + 1]) <= room:
        cut += 1
    return token[:cut], token[cut:]


def _balanced(text: str, measure: _Measure, width: float, count: int) -> list[str]:
    """The narrowest wrap that still gives ``count`` lines (evens out line lengths)."""
    low, high = width / count, width
    best = wrap(text, measure, width)
    for _ in range(12):
        mid = (low + high) / 2
        lines = wrap(text, measure, mid)
        if len(lines) <= count:
            best, high = lines, mid
        else:
            low = mid
    return best


def fit(
    text: str,
    style: Style,
    face: FontFace,
    box: PxBox,
    dpi: float,
    field: str,
    *,
    suffix: str = "",
    max_lines: int | None = None,
) -> Fitted:
    """Place ``text`` (plus an unbreakable ``suffix``, a label's colon) in ``box`` (pixels).
    Raises ``MissingGlyph`` or ``TextDoesNotFit``."""
    face.check(text + suffix, field)
    _, _, width, height = box
    for size, count in _attempts(style, max_lines or style.max_lines):
        lines = _try(text + suffix, style, face, size * dpi / 72, width, height, count)
        if lines is not None:
            return _place(text, tuple(lines), style, face, size, dpi, box, suffix)
    en, zh = FIELD_NAMES.get(field, (field, field))
    raise TextDoesNotFit(en, zh, text, style.min_size)


def _attempts(style: Style, max_lines: int) -> list[tuple[float, int]]:
    """(size, lines) in order of preference. A field keeps one line as long as shrinking
    allows; a paragraph (``justify``) keeps its size as long as wrapping allows."""
    if style.align == "justify":
        return [(size, count) for size in sizes(style) for count in range(1, max_lines + 1)]
    return [(size, count) for count in range(1, max_lines + 1) for size in sizes(style)]


def _try(
    text: str, style: Style, face: FontFace, px: float, width: float, height: float, count: int
) -> list[str] | None:
    if count * px * style.line_spacing > height + 0.5:
        return None
    measure = _Measure(face.measure(px), style.tracking * px)
    indent = style.indent * px
    if count == 1:
        lines = [text]
    else:
        lines = wrap(text, measure, width, indent)
        if len(lines) != count:
            return None
        if style.align not in ("justify", "distribute") and not indent:
            lines = _balanced(text, measure, width, count)
    fits = all(measure.line(line) + (indent if i == 0 else 0.0) <= width for i, line in enumerate(lines))
    return lines if fits else None


def _place(
    text: str,
    lines: tuple[str, ...],
    style: Style,
    face: FontFace,
    size: float,
    dpi: float,
    box: PxBox,
    suffix: str,
) -> Fitted:
    px = size * dpi / 72
    measure = _Measure(face.measure(px), style.tracking * px)
    left, top, width, height = box
    line_h = px * style.line_spacing
    if style.valign == "middle":
        top += (height - line_h * len(lines)) / 2
    runs: list[Run] = []
    for i, line in enumerate(lines):
        baseline = top + (i + 0.5) * line_h + face.em_center * px
        indent = style.indent * px if i == 0 else 0.0
        last = i == len(lines) - 1
        runs += _line_runs(line, measure, style, left + indent, width - indent, baseline, last, suffix)
    height = (top - box[1]) + line_h * len(lines)
    return Fitted(text, lines, size, px, tuple(runs), height, face, style.color, measure.tracking)


def _line_runs(
    line: str,
    measure: _Measure,
    style: Style,
    left: float,
    width: float,
    baseline: float,
    last: bool,
    suffix: str,
) -> list[Run]:
    stretch = style.align == "distribute" or (style.align == "justify" and not last)
    if stretch and len(line) > 1:
        return _spread(line, measure, left, width, baseline, suffix if last else "")
    line_width = measure.line(line)
    x = left
    if style.align == "center":
        x += (width - line_width) / 2
    elif style.align == "right":
        x += width - line_width
    if measure.tracking:
        return _tracked(line, measure, x, baseline)
    return [Run(x, baseline, line)]


def _tracked(line: str, measure: _Measure, x: float, baseline: float) -> list[Run]:
    runs = []
    for ch in line:
        runs.append(Run(x, baseline, ch))
        x += measure(ch) + measure.tracking
    return runs


def _spread(line: str, measure: _Measure, left: float, width: float, baseline: float, suffix: str) -> list[Run]:
    """Justify a line: the free space goes between words if it has spaces, else between
    characters; a suffix (a label's colon) stays against the last character."""
    if suffix and line.endswith(suffix):
        line = line[: -len(suffix)]
        width -= measure(suffix) + measure.tracking
    words = line.split(" ") if " " in line.strip() else tokens(line)
    if len(words) < 2:
        return [Run(left, baseline, line + suffix)]
    gap_min = measure(" ") if " " in line.strip() else measure.tracking
    used = sum(measure(w) for w in words)
    gap = max(gap_min, (width - used) / (len(words) - 1))
    runs, x = [], left
    for i, word in enumerate(words):
        text = word + suffix if i == len(words) - 1 else word
        runs.append(Run(x, baseline, text))
        x += measure(word) + gap
    return runs
