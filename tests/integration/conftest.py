"""Integration tests run real Ray workers: keep every cluster on loopback and quiet."""

import os

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_raylet_start_wait_time_s", "120")  # late raylet registration on busy CI
