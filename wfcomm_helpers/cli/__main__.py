"""``python -m wfcomm_helpers.cli``: the ``wfcomm`` command."""

from . import main

main()
