"""The GLTR-style per-token view: the text as written, flowing and selectable, each token coloured by its rank."""

from __future__ import annotations

import html
import re

from provenance.scores.table import token_table
from ui.highlight import token_colouring


def _visible_text(fragment: str) -> str:
    """What a reader sees: tags removed, character references resolved, <br> as newlines."""
    body = fragment.split("</div>", 1)[1]  # after the legend
    return html.unescape(re.sub(r"<[^>]+>", "", body.replace("<br>", "\n")))


def test_the_text_reads_exactly_as_written_with_the_first_token_shown_unscored(tiny_model):
    text = "Preamble\nThe Licenses for most software are designed to take away your freedom."
    stats = tiny_model.token_statistics([text])[0]
    tokens = token_table(tiny_model, stats)
    fragment = token_colouring(text, tokens)
    assert _visible_text(fragment) == text  # nothing missing, no pieces drawn apart, newline kept
    first = text[: int(stats.offsets[1][0])]  # the text of the unscored first token
    assert 'title="the first token is never scored' in fragment and first and first in fragment
    assert fragment.count(" · probability ") == len(tokens[tokens["token"] != ""])  # one hover per drawn token


def test_user_text_never_becomes_markup(tiny_model):
    text = "<script>alert(1)</script> ![x](http://example.com/a.png) **bold**"
    tokens = token_table(tiny_model, tiny_model.token_statistics([text])[0])
    fragment = token_colouring(text, tokens)
    assert "<script>" not in fragment and "](http" not in fragment and "**" not in fragment
    assert _visible_text(fragment) == text
