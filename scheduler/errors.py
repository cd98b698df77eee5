"""Why the scheduler refuses to start."""


class SchedulerError(Exception):
    """Root of the scheduler's errors."""


class InvalidSchedulerSetting(SchedulerError):
    """A setting the cron table needs cannot be used; the message names the setting."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
