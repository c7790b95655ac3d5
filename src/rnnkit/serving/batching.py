"""Micro-batching: requests that arrive together are predicted as one batch.

A recurrent model's cost per sentence falls steeply with the batch (one matrix product per
step serves every sentence), so under concurrent load the service collects the texts of every
request that reached the handler in the same event-loop turn and runs them in one call. No
request waits for a timer: a lone request is run on the next turn, exactly as without
batching. Requests are only batched with requests of the same key (their decoding options), so
each text is run exactly as its own request asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import Any

Pending = tuple[list[str], asyncio.Future]


class MicroBatcher:
    """Runs ``run(texts, key) -> [one result per text]`` over the texts of concurrent requests
    submitted with the same ``key``, at most ``max_texts`` at a time.

    If a batch fails (one request's text is invalid, say), each of its requests is run on its
    own, so only the faulty request gets the error. A request whose client went away before
    its batch ran (its handler cancelled, so its future too) is left out of the batch; one
    that goes away later is answered into the void: neither holds up the others.
    """

    def __init__(self, run: Callable[[list[str], Any], list[Any]], max_texts: int) -> None:
        self.run, self.max_texts = run, max_texts
        self.pending: dict[Hashable, list[Pending]] = {}
        self.flush_scheduled = False

    async def submit(self, texts: list[str], key: Hashable = None) -> list[Any]:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.pending.setdefault(key, []).append((texts, future))
        if not self.flush_scheduled:
            self.flush_scheduled = True
            loop.call_soon(self.flush)  # after the handlers already scheduled in this turn
        return await future

    def flush(self) -> None:
        self.flush_scheduled = False
        pending, self.pending = self.pending, {}
        for key, items in pending.items():
            items = [item for item in items if not item[1].done()]  # cancelled: client gone
            group: list[Pending] = []
            count = 0
            for item in items:
                if group and count + len(item[0]) > self.max_texts:
                    self.run_group(group, key)
                    group, count = [], 0
                group.append(item)
                count += len(item[0])
            if group:
                self.run_group(group, key)

    def run_group(self, group: list[Pending], key: Hashable) -> None:
        try:
            results = self.run([text for texts, _ in group for text in texts], key)
        except Exception as error:
            if len(group) > 1:
                for item in group:
                    self.run_group([item], key)
            elif not group[0][1].done():
                group[0][1].set_exception(error)
            return
        offset = 0
        for texts, future in group:
            if not future.done():  # a client that went away leaves a cancelled future
                future.set_result(results[offset : offset + len(texts)])
            offset += len(texts)
