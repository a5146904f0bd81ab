"""The hot slab: size accounting, and reading its size while another thread fills it."""

import threading

import numpy as np

from fleetrl.buffer.hot_slab import HotSlab

ROW_BYTES = 2 * 4  # one float32 pair per transition


def test_nbytes_counts_the_slots_in_use_through_puts_evictions_and_discards():
    slab = HotSlab(max_bytes=4 * 16 * ROW_BYTES, slot_rows=16)  # room for 4 slots
    assert slab.nbytes == 0
    slab.put("a", {"obs": np.zeros((20, 2), np.float32)})  # 2 slots
    assert slab.nbytes == 2 * 16 * ROW_BYTES
    slab.put("b", {"obs": np.zeros((16, 2), np.float32)}, pinned=True)  # 1 slot
    evicted = slab.put("c", {"obs": np.zeros((30, 2), np.float32)})  # 2 slots: "a" must go
    assert evicted == ["a"] and slab.nbytes == 3 * 16 * ROW_BYTES
    slab.discard("c")
    assert slab.nbytes == 16 * ROW_BYTES and slab.keys() == ["b"]


def test_nbytes_can_be_read_while_another_thread_fills_and_evicts():
    """stats() reads the slab's size from the learner's report thread while the hot-set loader
    puts and evicts records: reading must never see the key table mid-change."""
    slab = HotSlab(max_bytes=2000 * 16 * 8, slot_rows=16)
    chunk = {"obs": np.zeros((16, 2), np.float32)}
    for key in range(1500):
        slab.put(key, chunk)
    stop, errors = threading.Event(), []

    def churn():
        key = 10_000
        while not stop.is_set():
            slab.put(key, chunk)  # evicts the oldest once full
            slab.discard(key - 700)
            key += 1

    worker = threading.Thread(target=churn)
    worker.start()
    try:
        for _ in range(3000):
            try:
                assert 0 < slab.nbytes <= slab.max_bytes
            except RuntimeError as err:  # "OrderedDict mutated during iteration"
                errors.append(err)
                break
    finally:
        stop.set()
        worker.join()
    assert not errors, errors
