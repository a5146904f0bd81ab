"""Errors a user can cause or meet, each naming what went wrong.

The command line maps `ConfigError` (and other usage errors) to exit code 2 and every other
`FleetrlError` to exit code 1, printing the message without a traceback.
"""


class FleetrlError(Exception):
    """Base class of every error fleetrl raises on purpose."""


class ConfigError(FleetrlError, ValueError):
    """A config file, key or value is wrong. The message names the file and the offending key."""


class UnsafeActionError(FleetrlError, ValueError):
    """An action was refused before it reached a robot (wrong shape, NaN or infinite values)."""


class RobotConnectionError(FleetrlError, ConnectionError):
    """A robot could not be reached, refused us, or did not answer before its deadline."""


class RobotAuthError(RobotConnectionError):
    """A robot server refused the client's token (missing or wrong)."""


class RobotBusyError(RobotConnectionError):
    """A served robot is driven by another client (the message names it)."""


class ChannelTimeout(FleetrlError, TimeoutError):
    """A channel put or get did not complete before its deadline."""


class WorkerFailure(FleetrlError):
    """A worker (env, inference or learner) died or stopped answering; the message names it."""
