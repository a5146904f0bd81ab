"""Reading success from a step's info: the default keys, a configured key, and a missing flag."""

import pytest

from fleetrl.envs.success import episode_success, reports_success


@pytest.mark.parametrize(
    ("info", "key", "expected"),
    [
        ({"success": True}, None, True),
        ({"is_success": 1.0}, None, True),
        ({"success": False, "is_success": True}, None, False),  # "success" is read first
        ({"succeed": True}, None, False),  # another name is not guessed
        ({"succeed": True}, "succeed", True),
        ({"success": True}, "succeed", False),  # a configured key is the only one read
        ({}, None, False),
    ],
)
def test_success_is_read_under_the_configured_key(info, key, expected):
    assert episode_success(info, key) is expected


def test_reports_success_says_whether_the_flag_is_there():
    assert reports_success({"is_success": False}) and not reports_success({"succeed": True})
    assert reports_success({"succeed": False}, "succeed")
