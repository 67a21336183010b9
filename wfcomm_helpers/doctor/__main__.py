"""``python -m wfcomm_helpers.doctor``: every check, one line each (see :func:`main`)."""

import sys

from . import main

sys.exit(main())
