"""Integration tests run real Ray workers: keep every cluster on loopback and quiet."""

import os

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
