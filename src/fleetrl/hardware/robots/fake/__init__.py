"""A fake arm: the whole `Robot` contract with no simulator, for fast tests of what sits above."""

from fleetrl.hardware.robots.fake.robot import FakeArm, FakeArmConfig

__all__ = ["FakeArm", "FakeArmConfig"]
