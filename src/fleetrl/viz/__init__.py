"""Pictures people would rather see than read: camera frames and contact sheets as PNG."""
