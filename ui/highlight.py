"""Text with highlighted passages, as HTML that st.markdown shows exactly as written (user text never becomes
markup, markdown or LaTeX), and a scrollable box to show it in."""

from __future__ import annotations

import html

import streamlit as st

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
