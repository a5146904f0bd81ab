"""Teleoperation: keyboard, gamepad, SpaceMouse (optional libraries) and the scripted expert."""
