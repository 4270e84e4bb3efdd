"""Fetches known ahead, a few at once, handed back in the order they were asked for.

Sampling rows, probing links and revalidating a catalog's pages (http_conditional.py) are one
request after another, each a round trip to a host that takes `per_host` requests at once
(politeness.py): fetched one at a time, the caller waits for every answer in turn. Here up to
`width` fetches run together while the caller reads the earlier answers in order, so what it
finds is the same as one at a time. With `wanted`, a fetch starts only while it could still be
used (the useful answers read so far plus the fetches under way are fewer than `wanted`): the
same requests as one at a time, none wasted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any, TypeVar

Item = TypeVar("Item")
Answer = TypeVar("Answer")


def width_for(client: Any) -> int:
    """Fetches at once for this client: its hosts' `per_host` limit (1 for a client without one)."""
    limiter = getattr(client, "limiter", None)
    return max(1, int(getattr(limiter, "per_host", 1)))


def fetched_ahead(
    items: Iterable[Item],
    fetch: Callable[[Item], Answer],
    width: int,
    wanted: int | None = None,
    useful: Callable[[Answer], bool] | None = None,
) -> Iterator[tuple[Item, Answer]]:
    """(item, fetch(item)) in the items' order, up to `width` fetches under way; with `wanted`,
    none started once the `useful` answers read plus the fetches under way reach `wanted` (the
    answers end after the `wanted`th useful one). `fetch` must not raise (a failed fetch is an
    answer)."""
    width = max(1, width)
    source = iter(items)
    under_way: deque[tuple[Item, Future]] = deque()
    used = 0
    exhausted = False
    # one at a time (width 1) needs no thread: the fetch runs here when its turn to start comes
    with ThreadPoolExecutor(width, thread_name_prefix="wwc-fetch") if width > 1 else nullcontext() as pool:
        try:
            while True:
                while (
                    not exhausted
                    and len(under_way) < width
                    and (wanted is None or used + len(under_way) < wanted)
                ):
                    try:
                        item = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    under_way.append((item, _start(fetch, item, pool)))
                if not under_way:
                    return
                item, future = under_way.popleft()
                answer = future.result()
                if useful is None or useful(answer):
                    used += 1
                yield item, answer
        finally:  # the reader stopped early: what has not started never will
            for _item, future in under_way:
                future.cancel()


def _start(fetch: Callable[[Item], Answer], item: Item, pool: Executor | None) -> Future:
    """The fetch of `item` in the pool, or done here and now (no pool: one at a time)."""
    if pool is not None:
        return pool.submit(fetch, item)
    done: Future = Future()
    done.set_result(fetch(item))
    return done
