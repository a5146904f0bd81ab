"""fleetrl: online robot policy learning on a fleet of real and simulated robots."""

__version__ = "0.1.0"
