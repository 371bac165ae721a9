"""A ghost registry or published commitments file of deeply nested JSON is refused with a sentence, not a
RecursionError traceback."""

import pytest

from provenance import ghost
from provenance.cli import main as cli_main


@pytest.mark.parametrize("depth", [5_000, 200_000])
def test_deeply_nested_json_is_a_sentence(tmp_path, capsys, depth):
    path = tmp_path / "reg.json"
    path.write_text('{"format": "provenance-ghost-registry", "version": 1, "entries": ' + "[" * depth
                    + "]" * depth + "}")
    with pytest.raises(ghost.RegistryError, match="nested too deeply"):
        ghost.load_registry(path)
    capsys.readouterr()
    assert cli_main(["ghost", "verify", "--registry", str(path)]) == 2
    err = capsys.readouterr().err
    assert "nested too deeply" in err and "Traceback" not in err
    published = tmp_path / "public.json"
    published.write_text("[" * depth + "]" * depth)
    with pytest.raises(ghost.RegistryError, match="nested too deeply"):
        ghost.load_published(published)
