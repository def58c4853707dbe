"""The migrations build exactly the tables the code declares, and concurrent starts are safe."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from jitflow.identity import IdentityStore
from jitflow.identity import migrate as migrate_module
from jitflow.identity.database import create_store_engine
from jitflow.identity.errors import DatabaseUnavailable
from jitflow.identity.migrate import (
    VERSION_TABLE,
    current_revision,
    head_revision,
    shipped_head,
    stored_revision,
)
from jitflow.identity.schema import metadata


def test_migrated_schema_matches_the_declared_tables(database_url: str) -> None:
    engine = create_store_engine(database_url)
    try:
        assert current_revision(engine) is None
        IdentityStore(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
            )
            differences = compare_metadata(context, metadata)
        assert differences == []
    finally:
        engine.dispose()


def test_opening_an_up_to_date_store_again_changes_nothing(database_url: str) -> None:
    engine = create_store_engine(database_url)
    try:
        IdentityStore(engine).set_identity(
            "a@example.com",
            "aptible",
            "94a49e57-d046-4d9d-9dbf-f7711e337368",
            "3f1c6d2a-5b4e-4c8f-9a7d-1e2f3a4b5c6d",
        )
        reopened = IdentityStore(engine)
        assert current_revision(engine) == head_revision()
        assert len(reopened.list_identities()) == 1
    finally:
        engine.dispose()


def test_the_shipped_head_read_from_the_files_is_alembic_s(database_url: str) -> None:
    assert shipped_head() == head_revision()
    engine = create_store_engine(database_url)
    try:
        assert stored_revision(engine) is None
        IdentityStore(engine)
        assert stored_revision(engine) == current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_opening_a_current_store_leaves_alembic_unimported(tmp_path: Path) -> None:
    """The worker keeps what it imports: Alembic only comes in when there is a migration."""
    url = f"sqlite:///{tmp_path / 'identity.db'}"
    probe = (
        "import json, sys\n"
        "from jitflow.identity import IdentityStore\n"
        f"with IdentityStore.open({url!r}) as store:\n"
        "    store.list_identities()\n"
        "print(json.dumps('alembic' in sys.modules))\n"
    )

    def alembic_imported() -> bool:
        done = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
        )
        return bool(json.loads(done.stdout.strip().splitlines()[-1]))

    assert alembic_imported()  # the first start creates the schema
    assert not alembic_imported()


def test_a_schema_newer_than_this_jitflow_is_refused_by_name(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'identity.db'}")
    try:
        IdentityStore(engine)
        with engine.begin() as connection:
            connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
        with pytest.raises(DatabaseUnavailable, match="9999") as refused:
            IdentityStore(engine)
        assert "newer jitflow" in str(refused.value)
    finally:
        engine.dispose()


def test_the_shipped_head_is_left_to_alembic_when_a_file_says_it_another_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "__init__.py").write_text("")
    (versions / "0001_a.py").write_text(
        'revision: str = "0001"\ndown_revision: str | None = None\n'
    )
    (versions / "0002_b.py").write_text("revision = '0002'\ndown_revision = '0001'\n")
    monkeypatch.setattr(migrate_module, "_MIGRATIONS", tmp_path)
    assert shipped_head() == "0002"
    (versions / "0003_merge.py").write_text('revision = "0003"\ndown_revision = ("0001", "0002")\n')
    assert shipped_head() is None
