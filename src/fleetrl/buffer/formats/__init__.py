"""Other formats a buffer's transitions can be written to and read from (LeRobotDataset)."""
