"""AppTest: the Corpus overlap page builds an index from uploaded corpus files (saved to a folder), looks up uploaded
documents (a planted near-duplicate and an excerpt of a longer document are found, an unrelated text is not), shows
the matching spans side by side and a similarity histogram, reopens the saved folder, and refuses missing, corrupt
or foreign index folders with a sentence."""

import json
import random

from apptest_helpers import open_page
from textgen import random_sentences

from provenance.overlap import MANIFEST_NAME


def _corpus():
    """30 unrelated documents (one jsonl table), a document to near-duplicate and a long one holding an excerpt."""
    table = "\n".join(json.dumps({"id": f"row{i}", "text": random_sentences(1, length=60, seed=100 + i)[0]})
                      for i in range(30))
    planted = random_sentences(1, length=90, seed=7)[0]
    long_text = random_sentences(1, length=160, seed=8)[0]
    return table, planted, long_text


def _queries(planted: str, long_text: str):
    words = planted.split()
    rng = random.Random(3)
    for i in rng.sample(range(len(words)), 3):  # three words changed: still a near-duplicate
        words[i] = "changed"
    excerpt = " ".join(long_text.split()[40:120])  # 80 of the 160 words
    unrelated = random_sentences(1, length=80, seed=999)[0]
    return [("near.txt", " ".join(words)), ("excerpt.txt", excerpt), ("unrelated.txt", unrelated)]


def _upload(items):
    return [(name, text.encode(), "text/plain") for name, text in items]


def _markdown(at) -> str:
    return " ".join(m.value for m in at.markdown)


def _build(at, corpus_items, keep="Only in this session", folder=None):
    at.file_uploader(key="overlap_corpus_files").set_value(corpus_items)
    at.radio(key="overlap_keep").set_value(keep)
    at.run()
    if folder is not None:
        at.text_input(key="overlap_build_folder").set_value(str(folder))
    at.button(key="overlap_build").click()
    at.run()
    assert not at.exception, at.exception


def _look_up(at, items):
    at.file_uploader(key="overlap_query_files").set_value(_upload(items))
    at.run()
    at.button(key="overlap_query").click()
    at.run()
    assert not at.exception, at.exception


def _open(at, folder):
    at.text_input(key="overlap_open_folder").set_value(str(folder))
    at.run()
    at.button(key="overlap_open").click()
    at.run()
    assert not at.exception, at.exception


def _check_found(at):
    table = at.dataframe[0].value
    assert {"document", "match", "jaccard_est", "containment_est", "jaccard_exact", "containment_exact",
            "longest_span_words"} <= set(table.columns)
    found = dict(zip(table["document"], table["match"]))
    assert found == {"near.txt": "planted.txt", "excerpt.txt": "long.txt"}  # and nothing for unrelated.txt
    near = table[table["document"] == "near.txt"].iloc[0]
    assert 0.6 < near["jaccard_exact"] < 1.0
    excerpt = table[table["document"] == "excerpt.txt"].iloc[0]
    assert excerpt["containment_exact"] == 1.0 and excerpt["jaccard_exact"] < 0.6
    assert excerpt["longest_span_words"] == 80
    assert "2 of your 3 document(s) have near-duplicates or are contained in the corpus" in _markdown(at)


def test_build_save_query_side_by_side_and_reopen(tmp_path):
    table, planted, long_text = _corpus()
    corpus_items = [("corpus.jsonl", table.encode(), "application/jsonl")] + _upload(
        [("planted.txt", planted), ("long.txt", long_text)])
    folder = tmp_path / "indexes" / "my corpus"
    at = open_page("overlap")
    at.run()
    assert not at.exception
    assert at.title[0].value == "Corpus overlap"
    assert any("Build an index" in i.value for i in at.info)

    _build(at, corpus_items, keep="Save to a new folder", folder=folder)
    assert any("32 document(s)" in s.value and str(folder) in s.value for s in at.success), [s.value for s in
                                                                                               at.success]
    assert (folder / MANIFEST_NAME).is_file()
    assert len(at.session_state["overlap_index"]) == 32

    _look_up(at, _queries(planted, long_text))
    _check_found(at)
    assert len(at.get("plotly_chart")) == 1

    # side by side: the chosen match's spans are highlighted in both texts, user text escaped
    pick = at.selectbox(key="overlap_pick")
    excerpt_option = next(i for i, label in enumerate(pick.options) if label.startswith("excerpt.txt"))
    pick.set_value(excerpt_option)
    at.run()
    assert not at.exception
    marked = [m.value for m in at.markdown if "<mark>" in m.value]
    assert len(marked) == 2  # the query text and the corpus text
    assert all(m.count("<mark>") == 1 for m in marked)
    excerpt_words = _queries(planted, long_text)[1][1].split()
    assert excerpt_words[10] in marked[1].split("<mark>")[1].split("</mark>")[0]

    # the saved folder reopens as the same index and gives the same answers
    _open(at, folder)
    assert not at.error
    reopened = at.session_state["overlap_index"]
    assert len(reopened) == 32 and reopened.path == folder
    assert not at.dataframe  # the old results went with the old index
    at.button(key="overlap_query").click()
    at.run()
    assert not at.exception
    _check_found(at)


def test_nothing_matched_says_so_and_user_text_is_escaped():
    table, planted, long_text = _corpus()
    at = open_page("overlap")
    at.run()
    _build(at, [("corpus.jsonl", table.encode(), "application/jsonl")])
    assert len(at.session_state["overlap_index"]) == 30
    assert any("not saved yet" in c.value for c in at.caption)
    hostile = "<script>alert(1)</script> " + random_sentences(1, length=60, seed=4242)[0]
    at.text_area(key="overlap_query_pasted").set_value(hostile)
    at.run()
    at.button(key="overlap_query").click()
    at.run()
    assert not at.exception
    assert any("None of your 1 document(s) has a near-duplicate" in i.value for i in at.info)
    assert not any("<script>" in m.value for m in at.markdown)


def test_corpus_folder_by_path_paste_escaping_and_save_later(tmp_path):
    rows = [{"id": f"r{i}", "text": t} for i, t in enumerate(random_sentences(10, length=50, seed=5))]
    rows.append({"id": "html", "text": "Intro <b>bold</b> & *stars* " + random_sentences(1, length=50, seed=6)[0]})
    corpus_dir = tmp_path / "corpus"  # a corpus on this computer, read by path instead of uploaded
    corpus_dir.mkdir()
    (corpus_dir / "t.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    at = open_page("overlap")
    at.run()
    at.text_input(key="overlap_corpus_path").set_value(str(corpus_dir))
    at.run()
    at.button(key="overlap_build").click()
    at.run()
    assert not at.exception, at.exception
    assert len(at.session_state["overlap_index"]) == 11
    at.text_area(key="overlap_query_pasted").set_value(rows[-1]["text"])
    at.run()
    at.button(key="overlap_query").click()
    at.run()
    assert not at.exception
    assert at.dataframe[0].value["match"].tolist() == [f"{corpus_dir / 't.jsonl'}:html"]
    marked = [m.value for m in at.markdown if "<mark>" in m.value]
    assert len(marked) == 2
    assert all("&lt;b&gt;bold&lt;/b&gt;" in m and "<b>" not in m and "&#42;stars&#42;" in m for m in marked)

    # saving a session-only index afterwards, then reopening it
    at.text_input(key="overlap_save_folder").set_value(str(tmp_path / "saved"))
    at.run()
    at.button(key="overlap_save").click()
    at.run()
    assert not at.exception
    assert any("Saved in" in s.value for s in at.success)
    assert (tmp_path / "saved" / MANIFEST_NAME).is_file()


def test_missing_corrupt_and_foreign_index_folders_are_refused_with_a_sentence(tmp_path):
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / MANIFEST_NAME).write_text("{not json")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / MANIFEST_NAME).write_text(json.dumps({"format": "something else", "version": 1}))
    cases = {tmp_path / "nowhere": "no such folder", tmp_path: "not an overlap index folder",
             corrupt: "damaged", foreign: "not a provenance overlap index"}
    at = open_page("overlap")
    at.run()
    for folder, words in cases.items():
        _open(at, folder)
        assert len(at.error) == 1 and words in at.error[0].value, (folder, [e.value for e in at.error])
        assert "overlap_index" not in at.session_state

    # building into a folder that already holds an index (without 'add to') is refused too
    table, _, _ = _corpus()
    good = tmp_path / "good"
    _build(at, [("corpus.jsonl", table.encode(), "application/jsonl")], keep="Save to a new folder", folder=good)
    at.file_uploader(key="overlap_corpus_files").set_value([("more.txt", b"some more words here to add now",
                                                             "text/plain")])
    at.run()
    at.button(key="overlap_build").click()
    at.run()
    assert not at.exception
    assert any("already holds an overlap index" in e.value for e in at.error)
    # ... and appending to it works
    at.radio(key="overlap_keep").set_value("Add to the index in a folder")
    at.run()
    at.text_input(key="overlap_build_folder").set_value(str(good))
    at.run()
    at.button(key="overlap_build").click()
    at.run()
    assert not at.exception, at.exception
    assert len(at.session_state["overlap_index"]) == 31


def test_open_a_saved_index_never_connects_where_the_folder_says(tmp_path):
    """A shared index whose manifest names a Redis server (a listening socket here) is refused with a sentence
    until the user types a server or 'memory' in the Redis field; nothing connects to the named server."""
    import socket

    from provenance.overlap import OverlapIndex
    from provenance.overlap.index_folder import manifest_checksum
    from provenance.documents import Document

    idx = OverlapIndex()
    idx.add_documents([Document(f"d{i}", random_sentences(1, length=40, seed=i)[0]) for i in range(5)])
    folder = idx.save(tmp_path / "shared")
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.settimeout(0.2)
        port = server.getsockname()[1]
        manifest["storage"] = {"type": "redis", "redis": {"host": "127.0.0.1", "port": port,
                                                          "password": {"env": "SOME_SECRET"}}}
        manifest["checksum"] = {"sha256": manifest_checksum(manifest)}
        (folder / MANIFEST_NAME).write_text(json.dumps(manifest))
        at = open_page("overlap")
        at.run()
        _open(at, folder)
        assert len(at.error) == 1 and "never chooses where this program connects" in at.error[0].value
        assert "overlap_index" not in at.session_state
        at.text_input(key="overlap_open_redis").set_value("memory")
        _open(at, folder)
        assert not at.error and len(at.session_state["overlap_index"]) == 5
        try:
            server.accept()[0].close()
            connected = True
        except TimeoutError:
            connected = False
        assert not connected


def _documents_table(at):
    """The page's table of every document looked up (the one with an 'outcome' column)."""
    return next(d.value for d in at.dataframe if "outcome" in d.value.columns)


def test_a_preamble_inside_a_much_longer_licence_is_found_and_every_document_has_an_outcome():
    """The walkthrough (09-overlap-results.png): a preamble standing verbatim inside a licence 15 times longer is
    found with default settings, and every document looked up is listed with its outcome, the one without a match
    saying it is not proof of absence."""
    table, _, _ = _corpus()
    preamble = random_sentences(1, length=120, seed=11)[0]
    licence = " ".join([random_sentences(1, length=840, seed=12)[0], preamble,
                        random_sentences(1, length=840, seed=13)[0]])
    words = preamble.split()
    paraphrase = " ".join("otherwise" if i % 4 == 3 else w for i, w in enumerate(words))
    at = open_page("overlap")
    at.run()
    _build(at, [("corpus.jsonl", table.encode(), "application/jsonl")] + _upload([("licence.txt", licence)]))
    _look_up(at, [("preamble.txt", preamble), ("paraphrase.txt", paraphrase),
                  ("unrelated.txt", random_sentences(1, length=80, seed=999)[0])])
    matches = at.dataframe[0].value
    assert matches[["document", "match", "found_by", "matched_as"]].values.tolist() == [
        ["preamble.txt", "licence.txt", "exact excerpt", "contained"]]
    assert matches["containment_exact"].iloc[0] == 1.0 and matches["longest_span_words"].iloc[0] == 120
    assert "1 of your 3 document(s) has near-duplicates or is contained in the corpus" in _markdown(at)

    documents = _documents_table(at)
    assert documents["document"].tolist() == ["preamble.txt", "paraphrase.txt", "unrelated.txt"]
    assert documents["outcome"].tolist() == ["contained", "no match found (not proof of absence)",
                                             "no match found (not proof of absence)"]
    assert documents["best_match"].iloc[0] == "licence.txt"
    assert all("Not proof of absence" in d for d in documents["detail"].iloc[1:])
    marked = [m.value for m in at.markdown if "<mark>" in m.value]
    assert len(marked) == 2 and all(m.count("<mark>") == 1 for m in marked)  # the whole preamble, in both texts


def test_exact_passage_settings_reach_the_index_and_the_lookup():
    table, _, long_text = _corpus()
    at = open_page("overlap")
    at.run()
    at.number_input(key="overlap_exact_min_words").set_value(15)
    _build(at, [("corpus.jsonl", table.encode(), "application/jsonl")] + _upload([("long.txt", long_text)]))
    index = at.session_state["overlap_index"]
    assert index.params.exact_min_words == 15
    assert "verbatim passages of 15+ words always found" in _markdown(at)
    quote = " ".join(long_text.split()[50:66])  # 16 words, inside a new text
    essay = " ".join([random_sentences(1, length=60, seed=71)[0], quote, random_sentences(1, length=60, seed=72)[0]])
    at.number_input(key="overlap_min_passage").set_value(20)
    _look_up(at, [("essay.txt", essay)])
    outcome = _documents_table(at).iloc[0]
    assert outcome["outcome"] == "no match found (not proof of absence)"
    assert "verbatim passage of ≥ 20 words" in outcome["detail"]
    at.number_input(key="overlap_min_passage").set_value(15)
    at.run()
    at.button(key="overlap_query").click()
    at.run()
    assert not at.exception
    assert _documents_table(at)["outcome"].tolist() == ["verbatim passage"]
    assert "1 of your 1 document(s) has near-duplicates, is contained in or shares verbatim passages with the " \
        "corpus: 1 sharing a verbatim passage of 15+ words" in _markdown(at)
