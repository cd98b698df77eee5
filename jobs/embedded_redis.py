"""The embedded default's Redis: a fakeredis server that compiles each Lua script once.

fakeredis hands a script's text to its Lua runtime on every EVAL/EVALSHA, which compiles it
again each time: for Dramatiq's 300-line broker script that is a third to a half of a call's
cost (an empty fetch 0.35 ms, 0.25 ms with the compiled chunk kept; the demo's CPU 7 % less).
This server keeps the runtime fakeredis creates behind a wrapper that caches the
compiled chunk per script text; running a chunk again is what running its text again does.

fakeredis keeps its runtime in the server's `_lua_runtime` attribute, an internal name: if a
release moves it, scripts simply run uncached, and tests/jobs/test_embedded_redis.py says so.
"""

from __future__ import annotations

from typing import Any

# Distinct script texts kept compiled (Dramatiq's and ours are a handful; a test evaluating
# many one-off scripts must not grow the cache without end).
MAX_SCRIPTS = 256


class CompilingOnceRuntime:
    """fakeredis's Lua runtime, with `execute(text)` compiling each text once."""

    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime
        self._compiled: dict[bytes | str, Any] = {}
        self.compilations = 0

    def execute(self, script: bytes | str, *args: Any) -> Any:
        chunk = self._compiled.get(script)
        if chunk is None:
            if len(self._compiled) >= MAX_SCRIPTS:
                self._compiled.clear()
            chunk = self._compiled[script] = self._runtime.compile(script)
            self.compilations += 1
        return chunk(*args)

    def __getattr__(self, name: str) -> Any:
        # Everything else is the runtime's own; kept here so the next look-up is direct
        # (fakeredis reaches for `globals` and `table_from` several times a script call).
        value = getattr(self._runtime, name)
        setattr(self, name, value)
        return value


def embedded_redis_server() -> Any:
    """A fakeredis server whose Lua runtime compiles each script once."""
    import fakeredis  # the `embedded` extra: production modules do not import it

    class EmbeddedRedisServer(fakeredis.FakeServer):
        @property
        def _lua_runtime(self) -> CompilingOnceRuntime:
            try:
                runtime: CompilingOnceRuntime = self.__dict__["_compiling_runtime"]
            except KeyError:  # not created yet: fakeredis's hasattr() is then False
                raise AttributeError("_lua_runtime") from None
            return runtime

        @_lua_runtime.setter
        def _lua_runtime(self, runtime: Any) -> None:
            self.__dict__["_compiling_runtime"] = CompilingOnceRuntime(runtime)

    return EmbeddedRedisServer()
