"""EditStore.record: audit entries for changes to the catalog, not to a feature."""

from geo.ledger.edits import EditStore


def test_a_catalog_change_is_an_audit_entry(tmp_path):
    edits = EditStore(tmp_path / "edits.sqlite")
    batch = edits.record(
        "editor1",
        "correct",
        "plan_documents",
        "005",
        before={"unit": "万吨"},
        after={"unit": "吨"},
        details={"measure": "005/一/（一）"},
    )
    (entry,) = edits.audit(layer="plan_documents")
    assert (entry.user, entry.action, entry.feature_id, entry.batch) == (
        "editor1",
        "correct",
        "005",
        batch,
    )
    assert entry.before == {"unit": "万吨"} and entry.after == {"unit": "吨"}
    assert entry.details == {"measure": "005/一/（一）"}


def test_an_entry_names_who_made_it(tmp_path):
    import pytest

    with pytest.raises(ValueError, match="操作人"):
        EditStore(tmp_path / "edits.sqlite").record("", "publish", "plan_documents", "005")
