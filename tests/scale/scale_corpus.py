"""The small corpus of the scaled engine's tests: bad rows in every way a corpus goes wrong (a module of its own, so
test modules import it by a name no other folder's conftest shares)."""

import json
from pathlib import Path

from textgen import random_sentences

GOOD_JSONL, GOOD_CSV = 14, 6  # documents that can be scored in the corpus below
# the jsonl's bad lines (one of each): not JSON, an empty text, a text too short to score (one token)
BAD_ROWS = 3


def write_corpus(folder: Path) -> Path:
    """corpus/a.jsonl (14 good documents, a broken line, an empty text, a one-word text), corpus/sub/b.csv
    (6 good documents) and corpus/notes.bin (a type that is not read); returns the corpus folder."""
    corpus = folder / "corpus"
    (corpus / "sub").mkdir(parents=True)
    lines = [json.dumps({"id": f"a{i}", "text": t}) for i, t in enumerate(random_sentences(GOOD_JSONL, 30, seed=3))]
    lines += ["{not json", json.dumps({"id": "empty", "text": "  "}), json.dumps({"id": "short", "text": "a"})]
    (corpus / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = "".join(f'b{i},"{t}"\n' for i, t in enumerate(random_sentences(GOOD_CSV, 25, seed=4)))
    (corpus / "sub" / "b.csv").write_text("id,text\n" + rows, encoding="utf-8")
    (corpus / "notes.bin").write_bytes(b"\x00\x01")
    return corpus
