"""Settings: the one place environment variables become configuration."""

from config.settings import EmbeddedDefaultMissing, Settings, SettingsError, load_settings

__all__ = ["EmbeddedDefaultMissing", "Settings", "SettingsError", "load_settings"]
