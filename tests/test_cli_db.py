from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy.engine import make_url

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


def test_a_missing_database_is_one_line_naming_database_url_and_createdb(
    scratch_databases, monkeypatch
) -> None:
    url = scratch_databases.create("midway_gone")
    scratch_databases.drop(url)  # a name that certainly does not exist now
    monkeypatch.setenv("DATABASE_URL", url)
    name = make_url(url).database
    for command in (["db", "upgrade"], ["keys", "create", "--role", "backend", "--name", "x"]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert f'database "{name}" does not exist' in lines[0]
        assert "DATABASE_URL" in lines[0] and "createdb -h " in lines[0]


def test_an_unreachable_server_is_one_line_too(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/midway")
    result = CliRunner().invoke(cli, ["db", "current"])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "cannot use the PostgreSQL named by DATABASE_URL" in result.output


def test_a_database_without_the_schema_says_to_run_db_upgrade(
    scratch_databases, monkeypatch
) -> None:
    url = scratch_databases.create("midway_empty")
    monkeypatch.setenv("DATABASE_URL", url)
    try:
        result = CliRunner().invoke(cli, ["keys", "create", "--role", "backend", "--name", "x"])
        assert result.exit_code == 2, result.output
        assert len(result.output.strip().splitlines()) == 1
        assert "run `midway db upgrade`" in result.output
    finally:
        scratch_databases.drop(url)
