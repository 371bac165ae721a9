"""Ghost sentences, step 3: the default placement count scales with a document's length, placements are spread
over the text (never stacked, never one identifier after itself), and identifiers are dealt across documents."""

import random

from textgen import random_sentences

from provenance import ghost


def _entries(n: int) -> list[ghost.GhostEntry]:
    return ghost.new_entries(ghost.Registry(), ghost.GhostGenerator(), n, rng=random.Random(3))


def _note(sentences: int, words_per_sentence: int = 10, seed: int = 0) -> str:
    return " ".join(random_sentences(sentences, length=words_per_sentence, seed=seed))


def test_count_scales_with_length():
    assert ghost.placements_for_length(0) == 1
    assert ghost.placements_for_length(170) == 1
    assert ghost.placements_for_length(1000) == 4
    assert ghost.placements_for_length(1000, words_per_placement=100) == 10


def test_a_short_note_gets_one_identifier_not_fifteen():
    note = _note(17)  # 170 words, as in the walkthrough
    entries = _entries(5)
    marked = ghost.embed_uploads([("note.txt", note.encode())], entries, rng=random.Random(1))
    text = marked.files["note.txt"].decode()
    placements = marked.manifest["documents"][0]["placements"]
    assert len(placements) == 1 and marked.manifest["documents"][0]["words"] == 170
    assert sum(text.count(e.identifier) for e in entries) == 1


def test_placements_are_spread_with_sentences_between_them():
    entries = _entries(5)
    text = _note(200, seed=4)  # 2,000 words, 200 sentences
    for seed in range(20):
        marked = ghost.embed_uploads([("long.txt", text.encode())], entries, rng=random.Random(seed))
        placements = sorted(marked.manifest["documents"][0]["placements"], key=lambda p: p["offset"])
        assert len(placements) == 8
        assert {p["id"] for p in placements} == {e.id for e in entries}  # every identifier placed
        assert all(a["id"] != b["id"] for a, b in zip(placements, placements[1:]))  # never one after itself
        marked_text = marked.files["long.txt"].decode()
        for a, b in zip(placements, placements[1:]):
            between = marked_text[a["offset"] + len(a["inserted"]): b["offset"]]
            assert between.count(".") >= 1, "two identifiers with no sentence between them"


def test_explicit_repetitions_are_spread_too():
    entries = _entries(3)
    text = _note(30, seed=5)
    marked, placements = ghost.embed_text(text, entries, repetitions=3, rng=random.Random(2))
    offsets = sorted(p.offset for p in placements)
    assert len(placements) == 9 and all(marked.count(e.identifier) == 3 for e in entries)
    ends = [p.offset + len(p.inserted) for p in sorted(placements, key=lambda p: p.offset)]
    assert all(end < nxt for end, nxt in zip(ends, offsets[1:]))  # none directly after another
    assert ghost.remove_placements(marked, placements) == text


def test_identifiers_are_dealt_across_documents():
    entries = _entries(5)
    files = [(f"part{i}.txt", _note(60, seed=10 + i).encode()) for i in range(3)]  # 600 words: 2 each
    marked = ghost.embed_uploads(files, entries, rng=random.Random(3))
    placed = [p["id"] for d in marked.manifest["documents"] for p in d["placements"]]
    assert len(placed) == 6 and {e.id for e in entries} <= set(placed)
