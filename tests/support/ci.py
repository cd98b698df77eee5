"""Whether this run is CI (CI=true): there a missing service or browser fails, never skips."""

import os

IN_CI = os.environ.get("CI", "").lower() == "true"
