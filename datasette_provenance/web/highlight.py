"""Article text as HTML with shared passages, edits, boilerplate and credits marked.

All offsets are character offsets into ``articles.raw_text``. Marks may overlap
(a credit inside a boilerplate line, an edited word inside a passage), so the
text is cut at every mark boundary in one pass over the sorted boundaries and
each piece is wrapped in the marks active over it. Passages are the outer layer
and stay one element each (they are link targets); other marks are re-opened per
piece. Every piece of text and every attribute value is escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape

# Layers, outermost first. Only passages become links.
PASSAGE, BOILERPLATE, CREDIT, EDIT = range(4)


@dataclass(frozen=True)
class Mark:
    start: int
    end: int
    layer: int
    css_class: str
    attrs: dict = field(default_factory=dict, hash=False, compare=False)
    # Attributes set only on the first piece of the mark (e.g. a visible label).
    first_attrs: dict = field(default_factory=dict, hash=False, compare=False)


def highlight(text: str, marks: list[Mark]) -> Markup:
    """``text`` as escaped HTML with ``marks`` applied."""
    marks = _clip(text, marks)
    starts: dict[int, list[int]] = {}
    ends: dict[int, list[int]] = {}
    for index, mark in enumerate(marks):
        starts.setdefault(mark.start, []).append(index)
        ends.setdefault(mark.end, []).append(index)
    boundaries = sorted({0, len(text), *starts, *ends})

    html: list[str] = []
    active: set[int] = set()
    open_passage: int | None = None
    for position, next_position in zip(boundaries, boundaries[1:]):
        active.difference_update(ends.get(position, ()))
        active.update(starts.get(position, ()))
        passage = next((i for i in active if marks[i].layer == PASSAGE), None)
        if passage != open_passage:
            if open_passage is not None:
                html.append("</a>")
            if passage is not None:
                html.append(_open_tag("a", marks[passage], first=True))
            open_passage = passage
        inner = sorted(
            (i for i in active if marks[i].layer != PASSAGE), key=lambda i: (marks[i].layer, i)
        )
        html.append(_wrap(text[position:next_position], [marks[i] for i in inner], position))
    if open_passage is not None:
        html.append("</a>")
    return Markup("".join(html))


def _wrap(piece: str, inner: list[Mark], position: int) -> str:
    opening = "".join(_open_tag("span", mark, first=mark.start == position) for mark in inner)
    return f"{opening}{escape(piece)}{'</span>' * len(inner)}"


def _open_tag(tag: str, mark: Mark, first: bool) -> str:
    attrs = {"class": mark.css_class, **mark.attrs, **(mark.first_attrs if first else {})}
    rendered = "".join(
        f' {name}="{escape(value)}"' for name, value in attrs.items() if value is not None
    )
    return f"<{tag}{rendered}>"


def _clip(text: str, marks: list[Mark]) -> list[Mark]:
    """Drop empty or out-of-range marks and trim overlapping passages."""
    length = len(text)
    clipped, passage_end = [], 0
    for mark in sorted(marks, key=lambda m: (m.layer, m.start, -m.end)):
        start, end = max(0, mark.start), min(length, mark.end)
        if mark.layer == PASSAGE:
            start = max(start, passage_end)
        if start >= end:
            continue
        if mark.layer == PASSAGE:
            passage_end = end
        clipped.append(Mark(start, end, mark.layer, mark.css_class, mark.attrs, mark.first_attrs))
    return clipped


def find_words(text: str, words: str, start: int, end: int) -> tuple[int, int] | None:
    """Span of ``words`` in ``text[start:end]`` as whole words, any punctuation between them."""
    parts = [re.escape(part) for part in words.split()]
    if not parts:
        return None
    pattern = re.compile(r"(?<!\w)" + r"\W+".join(parts) + r"(?!\w)")
    found = pattern.search(text, start, end)
    return found.span() if found else None


def edit_marks(text: str, start: int, end: int, edits: list[list[str]], side: int) -> list[Mark]:
    """Marks for the changed words of one edited passage on one side (0 source, 1 derived)."""
    marks, cursor = [], start
    css_class = "pv-edit pv-edit-old" if side == 0 else "pv-edit pv-edit-new"
    for pair in edits:
        words, other = pair[side], pair[1 - side]
        span = find_words(text, words, cursor, end) if words else None
        if span is None:
            continue
        cursor = span[1]
        hint = f"changed to “{other}”" if side == 0 else f"was “{other}”"
        if not other:
            hint = "removed" if side == 0 else "added"
        marks.append(Mark(span[0], span[1], EDIT, css_class, {"title": hint}))
    return marks
