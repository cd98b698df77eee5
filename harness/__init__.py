"""Start and stop the system's processes on loopback — stripe_sim, Dramatiq workers, a private
Redis — for the tests, the benchmarks and local runs. Depends on nothing of ours: it only
launches commands."""
