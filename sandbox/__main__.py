"""`python -m sandbox` is the `mpc-sandbox` command."""

import sys

from sandbox.cli import main

sys.exit(main())
