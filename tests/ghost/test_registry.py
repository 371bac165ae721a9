"""Ghost sentences, step 2: registry round trips, commitments, published proofs, tampering and the
'ghost new' / 'ghost verify' commands."""

import json

import pytest

from provenance import ghost
from provenance.cli import main as cli_main


def test_registry_round_trip_commitments_and_published_proof(tmp_path):
    registry = ghost.Registry()
    entries = ghost.new_entries(registry, ghost.GhostGenerator(lead_in="Note:"), 3)
    path = ghost.save_registry(registry, tmp_path / "reg.json")
    loaded = ghost.load_registry(path)
    assert [e.to_dict() for e in loaded.entries] == [e.to_dict() for e in entries]
    for e in entries:
        assert e.commitment == ghost.commitment(e.identifier, e.salt)
        assert e.id == "ghost-" + e.commitment[:12]
    published = ghost.public_commitments(registry)
    assert not any(e.identifier in json.dumps(published) for e in entries)
    proof = ghost.verify_against_published(loaded, published)
    assert proof["commitment_ok"].all() and proof["published"].all()
    later = ghost.Registry(list(registry.entries))
    ghost.new_entries(later, ghost.GhostGenerator(), 1)
    assert ghost.verify_against_published(later, published)["published"].tolist() == [True, True, True, False]


def _tampered(data: dict, how: str) -> dict:
    data = json.loads(json.dumps(data))
    entry = data["entries"][1]
    if how == "identifier":
        words = entry["identifier"].split(" ")
        words[2] = "banjo" if words[2] != "banjo" else "walrus"
        entry["identifier"] = " ".join(words)
    elif how == "salt":
        entry["salt"] = "0" * 32
    elif how == "duplicate":
        data["entries"].append(data["entries"][0])
    return data


@pytest.mark.parametrize("how", ["identifier", "salt", "duplicate"])
def test_tampered_registry_gives_a_clear_error(tmp_path, how):
    registry = ghost.Registry()
    ghost.new_entries(registry, ghost.GhostGenerator(), 3)
    path = tmp_path / "reg.json"
    path.write_text(json.dumps(_tampered(registry.to_dict(), how)))
    with pytest.raises(ghost.RegistryError, match="tampered with or damaged"):
        ghost.load_registry(path)


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"format": "something-else", "version": 1, "entries": []}', "not a ghost-sentence registry"),
    ('{"format": "provenance-ghost-registry", "version": 1, "entries": [{"id": "x"}]}', "lacks the field"),
    ('{"format": "provenance-ghost-registry", "version": 9, "entries": []}', "version 9"),
    ('{"format": "provenance-ghost-registry", "version": 1, "entries": {}}', "no list of entries"),
])
def test_malformed_registry_gives_a_clear_error(tmp_path, content, message):
    path = tmp_path / "reg.json"
    path.write_text(content)
    with pytest.raises(ghost.RegistryError, match=message):
        ghost.load_registry(path)


def test_pasted_identifiers_become_entries_of_the_generator_that_made_them():
    generator = ghost.GhostGenerator(words=4, lead_in="Note:")
    made = [generator.draw() for _ in range(2)]
    entries = ghost.entries_from_lines(f"  {made[0]}  \n\n{made[1]}\n", generator)
    assert [e.identifier for e in entries] == made and all(e.generator == generator for e in entries)
    with pytest.raises(ghost.GhostError, match="was not made with these generator settings"):
        ghost.entries_from_lines(f"{made[0]}\nsomething else entirely", generator)


def test_cli_new_verify_and_tamper(tmp_path, capsys):
    reg, pub = tmp_path / "reg.json", tmp_path / "public.json"
    assert cli_main(["ghost", "new", "--count", "3", "--words", "5", "--registry", str(reg),
                     "--lead-in", "Note:", "--commitments", str(pub)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and all(line.split("\t")[1].startswith("Note: ") for line in lines)
    assert len(lines[0].split("\t")[1].split(" ")) == 6  # lead-in + 5 words
    assert cli_main(["ghost", "verify", "--registry", str(reg), "--published", str(pub)]) == 0
    assert cli_main(["ghost", "new", "--count", "1", "--registry", str(reg)]) == 0
    assert cli_main(["ghost", "verify", "--registry", str(reg), "--published", str(pub)]) == 1
    reg.write_text(json.dumps(_tampered(json.loads(reg.read_text()), "identifier")))
    capsys.readouterr()
    assert cli_main(["ghost", "verify", "--registry", str(reg)]) == 2
    assert "tampered with or damaged" in capsys.readouterr().err
