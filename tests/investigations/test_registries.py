"""Ghost registries kept in the investigation store: saved, read back unchanged in a new connection (a new
browser session, a restarted server), listed, marked as downloaded, deleted."""

import random
import time

import pytest

from provenance import ghost
from provenance.investigations.registries import RegistryStore
from provenance.investigations.store import InvestigationStore, StoreError


def test_a_registry_outlives_the_session_that_made_it(tmp_path):
    registry = ghost.Registry()
    ghost.new_entries(registry, ghost.GhostGenerator(), 3, rng=random.Random(1))
    with InvestigationStore(tmp_path / "s.sqlite") as store:
        kept = RegistryStore(store)
        record = kept.save("My books", registry.to_dict())
        assert record.entries == 3 and record.only_copy_here
        kept.save("Other", ghost.Registry().to_dict())
    with InvestigationStore(tmp_path / "s.sqlite") as store:  # a new process
        kept = RegistryStore(store)
        assert kept.names() == ["Other", "My books"]
        again = ghost.registry_from_dict(kept.get("My books").data)  # every commitment still checks
        assert again.to_dict() == registry.to_dict()
        kept.mark_downloaded("My books")
        assert not kept.get("My books").only_copy_here
        time.sleep(0.01)
        ghost.new_entries(again, ghost.GhostGenerator(), 1)
        assert kept.save("My books", again.to_dict()).only_copy_here  # changed since the download
        assert kept.get("My books").entries == 4
        kept.delete("Other")
        assert kept.names() == ["My books"] and kept.get("Other") is None
        with pytest.raises(StoreError, match="no kept registry"):
            kept.delete("Other")
        with pytest.raises(StoreError, match="needs a name"):
            kept.save("  ", again.to_dict())
        assert store.list() == []  # registries are not investigations
