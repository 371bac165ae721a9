"""Parsed uploads are kept for reruns, but bounded by bytes and by time (a zip bomb's expansion must not stay in
the server's memory)."""

from __future__ import annotations

from ui.uploads import ParsedUploads


def test_parsed_uploads_are_reused_then_evicted_by_bytes_and_by_time():
    now = [0.0]
    cache = ParsedUploads(max_bytes=4 * 3000, max_seconds=60, clock=lambda: now[0])
    first = cache.parse("a.txt", b"x" * 1000)
    assert cache.parse("a.txt", b"x" * 1000)[0] is first[0]  # the same parse, not a new one
    cache.parse("b.txt", b"y" * 1000)
    cache.parse("c.txt", b"z" * 1500)  # over 12,000 bytes of text in all: the least recently used goes
    assert cache.bytes <= 4 * 3000
    assert cache.parse("a.txt", b"x" * 1000)[0] is not first[0]
    now[0] = 1000.0  # nothing seen for longer than a minute
    cache.parse("d.txt", b"w" * 10)
    assert cache.bytes == 4 * 10 + len("d.txt")
    cache.parse("huge.txt", b"h" * 100_000)  # larger than the whole budget: parsed, never kept
    assert cache.bytes == 4 * 10 + len("d.txt")
