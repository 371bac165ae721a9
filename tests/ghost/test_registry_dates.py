"""Ghost registries: an entry's creation date is bound by a date commitment (moving it is caught); registries from
before date commitments still verify and `ghost verify` says plainly that their dates are not covered."""

import json

import pytest

from provenance import ghost
from provenance.cli import main as cli_main


def _registry(tmp_path, n: int = 3):
    registry = ghost.Registry()
    ghost.new_entries(registry, ghost.GhostGenerator(), n)
    return registry, ghost.save_registry(registry, tmp_path / "reg.json")


def test_new_entries_commit_to_their_creation_date(tmp_path, capsys):
    registry, path = _registry(tmp_path)
    for e in registry.entries:
        assert e.date_commitment == ghost.date_commitment(e.commitment, e.created, e.salt)
    assert ghost.undated_entries(ghost.load_registry(path)) == []
    published = ghost.public_commitments(registry)
    assert [r["date_commitment"] for r in published["commitments"]] == [e.date_commitment for e in registry.entries]
    assert ghost.verify_against_published(registry, published)["date_covered"].all()

    data = json.loads(path.read_text())
    data["entries"][1]["created"] = "2001-01-01T00:00:00+00:00"  # backdated, everything else untouched
    path.write_text(json.dumps(data))
    with pytest.raises(ghost.RegistryError, match="entry 2 .*creation time 2001-01-01T00:00:00\\+00:00 does not match"):
        ghost.load_registry(path)
    capsys.readouterr()
    assert cli_main(["ghost", "verify", "--registry", str(path)]) == 2
    assert "does not match its date commitment" in capsys.readouterr().err


def test_registries_without_date_commitments_verify_and_say_their_dates_are_not_covered(tmp_path, capsys):
    registry, path = _registry(tmp_path)
    pub = ghost.save_commitments(registry, tmp_path / "public.json")
    data = json.loads(path.read_text())
    for entry in data["entries"]:  # as an older version wrote them
        del entry["date_commitment"]
    data["entries"][0]["created"] = "2001-01-01T00:00:00+00:00"  # undetectable without a date commitment
    path.write_text(json.dumps(data))
    old = ghost.load_registry(path)
    assert ghost.undated_entries(old) == [e.id for e in registry.entries]
    assert not ghost.verify_against_published(old, ghost.load_published(pub))["date_covered"].any()
    capsys.readouterr()
    assert cli_main(["ghost", "verify", "--registry", str(path), "--published", str(pub)]) == 0
    out = capsys.readouterr().out
    assert "creation dates of 3 identifier(s)" in out and "NOT covered by any commitment" in out
    assert out.count("date NOT covered") == 3
    # adding identifiers to an old registry: the new ones are dated, the old ones stay as they were
    assert cli_main(["ghost", "new", "--count", "1", "--registry", str(path)]) == 0
    assert len(ghost.undated_entries(ghost.load_registry(path))) == 3
