"""Cleaning: find boilerplate, credits, datelines and story segments in raw text.

Pure functions over strings. The raw text is never changed: everything found is
reported as character spans into it, and the clean text is the raw text minus the
removed spans.

* ``boilerplate`` - ads, comment forms, share buttons, copyright lines, sign-offs,
  repeated captions and paragraphs (``Span``; left out of the clean text);
* ``credits`` - wire markers, text credits, attributions and photo credits (``Credit``,
  kinds in ``vocabulary.CREDIT_KINDS``), and an outlet's other names in a text
  (``find_name_credits``);
* ``datelines`` - datelines, date lines and bylines (also ``Credit``);
* ``segments`` - the stories of a file that holds several, and their titles
  (``SegmentSpan``);
* ``agencies`` - every agency name in one pass (names: ``vocabulary.AGENCIES``);
* ``page`` - the lines of the text and what the rules found so far;
* ``cleaner`` - ``clean_article``, the rules in order.

All patterns are Unicode-aware; every line ending (CRLF, CR, LF, U+2028 ...) is a
line break. ``removed`` is sorted and non-overlapping; there is always at least one
segment, and segments tile the text in order (the first starts at 0, each ends
where the next starts, the last at ``len(raw_text)``), so every character is in
exactly one segment and ``kept_ranges`` plus ``removed`` cover each segment.

Speed: one pass of two trie-shaped regexes finds every agency name; everything else
works line by line, and only short lines (or lines holding a cue) get the costlier
checks: about 0.1-0.2 µs per word on the seed articles (timeit, CPython 3.11).
"""

from .agencies import find_agencies
from .cleaned import CleanedArticle, Credit, SegmentSpan, Span
from .cleaner import clean_article
from .credits import find_name_credits

__all__ = [
    "CleanedArticle",
    "Credit",
    "SegmentSpan",
    "Span",
    "clean_article",
    "find_agencies",
    "find_name_credits",
]
