"""Benchmarks for the kit (``python3 kit.py bench``; ``--quick`` for a smoke run).

Every measurement that depends on DBOS's configuration runs in its own subprocess
(:mod:`.probe`): ``DBOS`` is a process singleton, so each configuration gets a clean process.
The orchestrator (:mod:`.__main__`) compares them in one run and writes ``docs/benchmarks.md``
and ``docs/benchmarks.png``.
"""
