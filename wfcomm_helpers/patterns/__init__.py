"""The communication patterns: one module per pattern (its workflow, constants and client calls).

``events``, ``messaging`` and ``streaming`` are the three patterns the notebooks teach; ``compute``
is the CPU step they share; ``lookup`` finds a workflow by id through DBOS's client; ``status``
reports one workflow; ``registry`` is where a pattern declares itself to the interfaces.
"""
