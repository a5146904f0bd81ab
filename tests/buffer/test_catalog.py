"""Catalog views: what a draw may pick, and where each picked transition lies."""

import numpy as np
import pytest

from fleetrl.buffer.catalog import DEMO, ONLINE, Catalog
from fleetrl.core.transitions import SOURCE_DEMO, SOURCE_ONLINE


def sources(*values: int) -> bytes:
    return np.asarray(values, dtype=np.int8).tobytes()


def test_a_view_counts_each_stream_and_locates_picks_in_their_records():
    catalog = Catalog(demo_sources={SOURCE_DEMO})
    catalog.add("a", sources(SOURCE_ONLINE, SOURCE_DEMO, SOURCE_ONLINE))  # online rows 0, 2; demo row 1
    catalog.add("b", sources(SOURCE_ONLINE, SOURCE_ONLINE))
    view = catalog.view()
    assert view.sizes == (4, 1)
    records, rows = view.locate([np.array([0, 1, 2, 3]), np.array([0, 0])])
    assert records.tolist() == [0, 0, 1, 1, 0, 0] and rows.tolist() == [0, 2, 0, 1, 1, 1]
    with pytest.raises(IndexError):
        view.locate([np.array([4]), np.array([], dtype=np.int64)])


def test_a_pool_and_a_window_narrow_the_view():
    catalog = Catalog(demo_sources={SOURCE_DEMO})
    for key in range(4):
        catalog.add(key, sources(*[SOURCE_ONLINE] * 10))
    assert catalog.view(pool=np.array([1, 3])).sizes == (20, 0)
    assert catalog.view(window=15).sizes == (20, 0)  # the records holding the newest 15 transitions
    records, _ = catalog.view(window=15).locate([np.arange(20), np.array([], dtype=np.int64)])
    assert set(records.tolist()) == {2, 3}
    assert catalog.view().sizes[ONLINE] == 40 and catalog.view().sizes[DEMO] == 0
