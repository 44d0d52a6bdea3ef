"""PilotGate benchmarks (not timed tests): `python -m bench` runs them all; results go to README's Benchmarks."""
