"""``python -m hermes_parse``: the ``hermes-parse`` command."""

import sys

from .cli import main

sys.exit(main())
