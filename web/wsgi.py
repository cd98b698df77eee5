"""gunicorn entry: `gunicorn 'web.wsgi:app'`. JSON logs for the whole process."""

from config import load_settings
from config.logging import configure_logging
from web import create_app

configure_logging(load_settings().log_level)
app = create_app()


def create_logged_app(test_config: dict[str, object] | None = None) -> object:
    """For gunicorn's factory form with overrides, e.g. the benchmark's rate limit:
    gunicorn 'web.wsgi:create_logged_app({"RATE_LIMIT": [100000, 1]})'."""
    return create_app(test_config)
