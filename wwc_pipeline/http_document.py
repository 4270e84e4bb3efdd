"""A whole JSON document from a response body: parsed at once when it is small, else streamed.

The json module's C parser reads a 2 MB Discovery API page 1.6 times as fast as ijson, and a
catalog's next page waits for this one's parse (its cursor is in the page). So a body of up to
WHOLE_PARSE_BYTES is parsed at once; a bigger one streams through ijson (http_body.json_items),
as does any body json would read otherwise than ijson or not at all: the data, and the error
raised for bad JSON, are ijson's in every case.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any

from wwc_pipeline import http_body
from wwc_pipeline.http_body import BodyReader

WHOLE_PARSE_BYTES = 4 * 1048576  # a whole document up to this size is parsed at once (json_document)
# documents held whole at once in this process: each holds its body until parsed, and a nightly
# receives dozens of catalog pages at once (the national benchmark's peak grew 56 MiB without it)
WHOLE_PARSES = threading.BoundedSemaphore(4)
# an escaped surrogate that is not half of a pair: ijson and json read it differently
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])|(?<![0-9a-fA-F]{4})\\u[dD][c-fC-F]"
)


def json_document(reader: BodyReader, content_type: str = "") -> Any:
    """The whole JSON document. A body of up to WHOLE_PARSE_BYTES is parsed at once by the json
    module's C parser (1.6 times as fast as ijson on a 2 MB catalog page, whose parse holds up
    the next page's request); a bigger one streams through ijson, as does any body json would
    read otherwise than ijson (NaN, a lone surrogate escape, a byte-order mark) or not at all, so the
    data, and the error raised for bad JSON, are ijson's in every case."""
    if not WHOLE_PARSES.acquire(blocking=False):  # enough bodies held already: this one streams
        return _streamed(reader, [], reader.chunks(), content_type)
    try:
        chunks = reader.chunks()
        held: list[bytes] = []
        size = 0
        for chunk in chunks:
            held.append(chunk)
            size += len(chunk)
            if size > WHOLE_PARSE_BYTES:
                break
        else:
            body = b"".join(held)
            if not body.startswith(b"\xef\xbb\xbf") and not (b"\\u" in body and _LONE_SURROGATE.search(body)):
                try:
                    return json.loads(body, parse_constant=_refuse_constant)
                except (ValueError, RecursionError):
                    pass  # ijson says what is wrong with it
            held, chunks = [body], iter(())
    finally:
        WHOLE_PARSES.release()
    return _streamed(reader, held, chunks, content_type)


def _streamed(reader: BodyReader, held: list[bytes], rest: Iterator[bytes], content_type: str) -> Any:
    (data,) = http_body.json_items(_Replayed(reader, held, rest), ("",), content_type)
    return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _Replayed:
    """A reader whose chunks are those already read, then the rest of the body's."""

    def __init__(self, reader: BodyReader, held: list[bytes], rest: Iterator[bytes]) -> None:
        self._reader, self._held, self._rest = reader, held, rest

    @property
    def size(self) -> int:
        return self._reader.size

    def chunks(self) -> Iterator[bytes]:
        yield from self._held
        yield from self._rest
