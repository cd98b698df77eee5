from alembic.script import ScriptDirectory
from click.testing import CliRunner

from cli.main import cli
from models.migrate import alembic_config


def test_midway_db_upgrade_current_and_downgrade(scratch_databases, monkeypatch) -> None:
    url = scratch_databases.create("midway_cli")
    monkeypatch.setenv("DATABASE_URL", url)
    runner = CliRunner()
    try:
        result = runner.invoke(cli, ["db", "current"])
        assert result.exit_code == 0 and "base" in result.output

        result = runner.invoke(cli, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        assert f"database at revision {head}" in result.output

        result = runner.invoke(cli, ["db", "downgrade", "base"])
        assert result.exit_code == 0, result.output
        assert runner.invoke(cli, ["db", "current"]).output.strip() == "base (empty)"
    finally:
        scratch_databases.drop(url)


def test_a_bad_setting_is_a_usage_error_naming_it(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/test")
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "DATABASE_URL" in result.output
