"""Background preparation of batches, so a learner's next batch is ready when it asks.

    prefetcher = BatchPrefetcher(make_batch, depth=2)
    batch = prefetcher.get(256, timeout_s=60)      # made in the background, `depth` batches ahead
    prefetcher.close()

`make_batch(batch_size)` runs on the prefetch thread only. An error it raises (an empty buffer)
reaches the caller of `get`, and the thread stops; the next `get` starts it again. Asking for
another batch size drops the batches made for the old one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable


class BatchPrefetcher:
    def __init__(self, make_batch: Callable[[int], dict], depth: int = 2) -> None:
        if depth < 1:
            raise ValueError(f"prefetch depth must be at least 1, got {depth}")
        self._make_batch, self._depth = make_batch, depth
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._batch_size: int | None = None

    def _run(self, batch_size: int, out: queue.Queue, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                item = self._make_batch(batch_size)
            except Exception as err:  # noqa: BLE001 - handed to the caller of get()
                item = err
            while not stop.is_set():
                try:
                    out.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if isinstance(item, Exception):
                return

    def _start(self, batch_size: int) -> None:
        self._halt()
        self._stop = threading.Event()
        self._queue = queue.Queue(maxsize=self._depth)
        self._batch_size = batch_size
        self._thread = threading.Thread(
            target=self._run, args=(batch_size, self._queue, self._stop), name="buffer-prefetch", daemon=True
        )
        self._thread.start()

    def get(self, batch_size: int, timeout_s: float = 60.0) -> dict:
        """The next batch of `batch_size`; TimeoutError past `timeout_s`."""
        alive = self._thread is not None and self._thread.is_alive()
        if batch_size != self._batch_size or (not alive and (self._queue is None or self._queue.empty())):
            self._start(batch_size)
        try:
            item = self._queue.get(timeout=timeout_s)
        except queue.Empty:
            raise TimeoutError(f"no batch of {batch_size} was ready within {timeout_s} s") from None
        if isinstance(item, Exception):
            self._thread = None
            raise item
        return item

    def _halt(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._thread = None

    def close(self) -> None:
        self._halt()
        self._queue = None
