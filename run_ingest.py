#!/usr/bin/env python3
"""Entry point: the same as the ``vng-ingest`` console script."""

import sys

from vng_ingest.cli import main

if __name__ == "__main__":
    sys.exit(main())
