"""The DBOS runtime the kit runs the patterns in.

``lifecycle`` starts, resets and shuts down DBOS in a kernel or a process; ``settings`` says where
its database is and how it polls; ``guard`` keeps one process per database; ``wakeup`` and
``dbos_private`` touch DBOS's internals (latency only); ``outage`` and ``health`` watch it;
``errors``, ``validation`` and ``extras`` are the kit's one-line errors, input checks and optional
dependencies. Importing this package imports nothing heavy (``import wfcomm_helpers`` needs it).
"""
