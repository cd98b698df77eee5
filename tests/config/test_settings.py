from pathlib import Path

import pytest

from config import SettingsError, load_settings


def test_nothing_set_means_the_embedded_default() -> None:
    settings = load_settings({})
    assert settings.embedded_database and settings.embedded_redis
    assert settings.stripe_api_base is None
    assert settings.data_dir == Path("var")
    assert settings.payout_thresholds == {"usd": 10000, "eur": 10000, "jpy": 10000}
    assert settings.recon_timezone == "UTC" and settings.recon_at == "02:00"
    assert settings.recon_catchup_days == 7


def test_real_services_from_the_environment() -> None:
    settings = load_settings(
        {
            "DATABASE_URL": "postgresql://root@127.0.0.1:5432/test",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "STRIPE_API_BASE": "http://127.0.0.1:12111",
            "STRIPE_WEBHOOK_SECRET": "whsec_new, whsec_old",
            "PAYOUT_THRESHOLDS": '{"usd": 5000, "jpy": 20000}',
            "RECON_TIMEZONE": "America/Chicago",
            "RECON_AT": "03:30",
            "STRIPE_READ_TIMEOUT_S": "12.5",
        }
    )
    # psycopg 3 is always the driver, whatever spelling the URL came in.
    assert settings.database_url == "postgresql+psycopg://root@127.0.0.1:5432/test"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.stripe_webhook_secrets == ("whsec_new", "whsec_old")
    assert settings.payout_thresholds == {"usd": 5000, "jpy": 20000}
    assert settings.recon_timezone == "America/Chicago"
    assert settings.recon_at == "03:30"
    assert settings.stripe_read_timeout_s == 12.5


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PAYOUT_THRESHOLDS": "{not json"}, "PAYOUT_THRESHOLDS"),
        ({"PAYOUT_THRESHOLDS": '{"usd": 10.5}'}, "PAYOUT_THRESHOLDS[usd]"),
        ({"PAYOUT_THRESHOLDS": '{"USD": 100}'}, "PAYOUT_THRESHOLDS"),
        ({"PAYOUT_THRESHOLDS": "[100]"}, "PAYOUT_THRESHOLDS"),
        ({"RECON_AT": "25:00"}, "RECON_AT"),
        ({"RECON_CATCHUP_DAYS": "seven"}, "RECON_CATCHUP_DAYS"),
        ({"STRIPE_READ_TIMEOUT_S": "-1"}, "STRIPE_READ_TIMEOUT_S"),
        ({"DATABASE_URL": "sqlite:///x.db"}, "DATABASE_URL"),
        ({"WORKER_PROCESSES": "0"}, "WORKER_PROCESSES"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(env)
    assert named in str(error.value)
