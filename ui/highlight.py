"""Text with highlighted passages, as HTML that st.markdown shows exactly as written (user text never becomes
markup, markdown or LaTeX), and a scrollable box to show it in."""

from __future__ import annotations

import html

import streamlit as st

from provenance.charts import BUCKET_COLORS

MAX_SHOWN_CHARS = 20_000  # longer texts are shown as excerpts around the highlighted spans

_MARKDOWN_CHARS = {ord(ch): f"&#{ord(ch)};" for ch in "\\`*_{}[]()+-!|~$"}  # html.escape's output has none


def markdown_safe(text: str) -> str:
    """User text as HTML that shows exactly that text: html.escape'd, and every HTML, markdown or LaTeX character
    turned into a character reference so st.markdown renders it as itself; newlines become <br> (a blank line
    would end the HTML block)."""
    escaped = html.escape(text, quote=True).translate(_MARKDOWN_CHARS)
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """[start, end) ranges sorted, with overlapping or touching ones merged."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def highlighted(text: str, spans: list[tuple[int, int]], *, context: int = 300) -> str:
    """``text`` as safe HTML with the [start, end) character ``spans`` inside <mark>; a text longer than
    MAX_SHOWN_CHARS is cut to the spans and ``context`` characters around each."""
    spans = merge_spans([(max(0, s), min(len(text), e)) for s, e in spans if e > s])
    if len(text) <= MAX_SHOWN_CHARS:
        windows = [(0, len(text))]
    else:
        windows = merge_spans([(max(0, s - context), min(len(text), e + context)) for s, e in spans]) or \
            [(0, min(len(text), MAX_SHOWN_CHARS))]
    parts = []
    for w_start, w_end in windows:
        if w_start > 0:
            parts.append(" … ")
        pos = w_start
        for s, e in spans:
            if e <= w_start or s >= w_end:
                continue
            s, e = max(s, w_start), min(e, w_end)
            parts.append(markdown_safe(text[pos:s]))
            parts.append(f"<mark>{markdown_safe(text[s:e])}</mark>")
            pos = e
        parts.append(markdown_safe(text[pos:w_end]))
    if windows[-1][1] < len(text):
        parts.append(" … ")
    return "".join(parts)


def text_box(title: str, body_html: str) -> None:
    """A bold title and a bordered, scrollable box holding ``body_html`` (from ``highlighted``)."""
    st.markdown(f"<strong>{markdown_safe(title)}</strong>", unsafe_allow_html=True)
    st.markdown('<div style="max-height: 480px; overflow-y: auto; border: 1px solid rgba(128,128,128,0.35); '
                f'border-radius: 0.5rem; padding: 0.75rem; line-height: 1.6;">{body_html}</div>',
                unsafe_allow_html=True)


UNSCORED_COLOUR = "#e4e4e4"


def _token_title(row) -> str:
    alternatives = f" · the model expected: {row.alternatives}" if row.alternatives else ""
    return (f"{row.token!r} · probability {row.probability:.3g} · rank {int(row.rank):,} ({row.bucket})"
            f"{alternatives}")


def token_colouring(text: str, tokens, *, max_tokens: int = 3000) -> str:
    """A text as GLTR shows it: the text itself, flowing and selectable, each scored token on a background coloured
    by its rank bucket, hovering shows its probability, rank and the model's top alternatives. ``tokens`` is
    ``scores.table.token_table``'s frame (character offsets ``start``/``end`` into ``text``). Text before the first
    scored token (the first token, which is never scored) is grey and says so; sub-word pieces that share a
    character span are drawn once; whitespace and newlines are kept. Safe HTML for st.markdown."""
    shown = tokens.head(max_tokens)
    parts, pos = [], 0
    first = int(shown["start"].iloc[0]) if len(shown) else len(text)
    if first > 0:
        parts.append(f'<span style="background:{UNSCORED_COLOUR}" title="the first token is never scored: nothing '
                     f'comes before it to predict it from">{markdown_safe(text[:first])}</span>')
        pos = first
    for row in shown.itertuples(index=False):
        start, end = int(row.start), int(row.end)
        if end <= pos:  # a byte-level piece of a character already drawn
            continue
        start = max(start, pos)
        if start > pos:  # text between tokens (e.g. spaces a tokenizer keeps outside the token span)
            parts.append(markdown_safe(text[pos:start]))
        colour = BUCKET_COLORS.get(row.bucket, UNSCORED_COLOUR)
        title = html.escape(_token_title(row), quote=True).translate(_MARKDOWN_CHARS)
        parts.append(f'<span style="background:{colour};border-radius:2px" title="{title}">'
                     f"{markdown_safe(text[start:end])}</span>")
        pos = end
    rest = text[pos:] if len(tokens) <= max_tokens else ""
    parts.append(markdown_safe(rest) + ("" if len(tokens) <= max_tokens else
                                        f" … (first {max_tokens:,} of {len(tokens):,} tokens shown)"))
    legend = " ".join(f'<span style="background:{c};padding:0 0.4em;border-radius:2px">{b}</span>'
                      for b, c in BUCKET_COLORS.items())
    legend += f' <span style="background:{UNSCORED_COLOUR};padding:0 0.4em;border-radius:2px">not scored</span>'
    return (f'<div style="margin-bottom:0.4rem;font-size:0.9em">Rank of each actual token among the model\'s '
            f'guesses: {legend}</div><div style="line-height:1.9">{"".join(parts)}</div>')
