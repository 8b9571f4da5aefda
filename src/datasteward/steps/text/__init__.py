"""Web-text quality rules: C4, C4 bad words, Gopher quality and repetition, FineWeb.

Each step measures its signals on every record (stored as columns with a step prefix) and
decides by the rule of the paper that defined it, with datatrove 0.10's defaults. The shared
word tokeniser and vocabulary live in :mod:`._tokenize`, the n-gram statistics in
:mod:`._ngrams`. ``split_chunk`` (the word splitter) is public: MinHash deduplication shingles
the same words.
"""

from __future__ import annotations

from datasteward.steps.text._tokenize import split_chunk

__all__ = ["split_chunk"]
