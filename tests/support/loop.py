"""A stand-in for the asyncio loop, for the hold timer's tests: time moves only when told."""

from __future__ import annotations


class FakeLoop:
    """A stand-in for the asyncio loop: time only moves when the test says so."""

    class Handle:
        def __init__(self, when, callback):
            self.when, self.callback, self.cancelled = when, callback, False

        def cancel(self):
            self.cancelled = True

    def __init__(self):
        self.now = 0.0
        self.pending: list[FakeLoop.Handle] = []

    def time(self) -> float:
        return self.now

    def call_later(self, delay, callback):
        h = self.Handle(self.now + delay, callback)
        self.pending.append(h)
        return h

    def advance(self, seconds: float) -> None:
        end = self.now + seconds
        while True:
            due = [h for h in self.pending if not h.cancelled and h.when <= end + 1e-9]
            if not due:
                break
            h = min(due, key=lambda h: h.when)
            self.pending.remove(h)
            self.now = h.when
            h.callback()
        self.now = end
