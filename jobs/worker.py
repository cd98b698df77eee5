"""What the worker processes load: `dramatiq jobs.worker` (as `midway worker` runs it).

The one place a worker's setup happens: settings from the environment, the broker from them,
then every actor.
"""

from config import load_settings
from jobs.setup import start

broker = start(load_settings())
