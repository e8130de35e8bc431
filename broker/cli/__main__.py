"""`python -m broker.cli`: the same `antrian` command, for tests and machines without the script."""

import sys

from broker.cli.main import main

sys.exit(main())
