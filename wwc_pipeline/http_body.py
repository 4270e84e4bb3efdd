"""Reading a response body as it arrives: capped, hashed, decoded, parsed without holding it whole.

`BodyReader` yields the body as UTF-8 chunks: at most `limit` bytes after Content-Encoding (a
gzip bomb stops at the cap, decompressed a chunk at a time by urllib3), hashed for page digests,
decoded with replacement (a byte that is not valid text becomes U+FFFD and is counted, instead
of failing the document), and refused early when a long stretch holds no double quote at all
(blank padding, a decompression bomb: no catalog has megabytes without a string). `json_items`
feeds those chunks to ijson and yields the items of one list as each one completes, so memory
holds one item, never the body.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

import ijson
import requests
from urllib3.exceptions import ReadTimeoutError

from wwc_pipeline.http_deadline import AttemptGuard
from wwc_pipeline.http_types import DeadlineError, Final, NotJsonError, Retryable
from wwc_pipeline.http_waits import size_text

CHUNK_BYTES = 65536
QUOTELESS_LIMIT = 16 * 1048576  # this many bytes without a `"`: not a catalog, refused
HEAD_BYTES = 1048576  # the start of the body kept for messages and small-document checks
_REPLACED = "\ufffd"
_REPLACED_BYTES = _REPLACED.encode()
_CHARSET = re.compile(r"charset=[\"']?([\w.:-]+)", re.IGNORECASE)
_UTF8_NAMES = {"utf-8", "utf8", "us-ascii", "ascii"}


class TextRepair:
    """Bytes in, valid UTF-8 out: UTF-8 by default (UTF-16/32 when the first bytes say so, the
    declared charset when the body is not UTF-8 from its first non-ASCII byte on); a sequence
    that is not valid text becomes U+FFFD and is counted in `replaced`."""

    def __init__(self, content_type: str = ""):
        found = _CHARSET.search(content_type or "")
        declared = found.group(1).lower() if found else None
        try:
            self._fallback = (
                codecs.lookup(declared).name if declared and declared not in _UTF8_NAMES else None
            )
        except LookupError:
            self._fallback = None
        self._decoder: Any = None
        self._codec = ""
        self._start = b""
        self._seen_non_ascii = False
        self.replaced = 0

    def feed(self, chunk: bytes, final: bool = False) -> bytes:
        if self._decoder is None:
            self._start += chunk
            if len(self._start) < 4 and not final:
                return b""
            chunk, self._start = self._start, b""
            self._codec = json.detect_encoding(chunk[:4])
            self._decoder = codecs.getincrementaldecoder(self._codec)("replace")
        if self._codec == "utf-8" and chunk.isascii() and not self._decoder.getstate()[0] and not final:
            return chunk  # the common case, at no cost
        pending = self._decoder.getstate()[0]
        text = self._decoder.decode(chunk, final)
        bad = text.count(_REPLACED) - chunk.count(_REPLACED_BYTES)
        if bad > 0 and self._fallback and self._codec == "utf-8" and self._ascii_until_error(pending + chunk):
            self._codec = self._fallback  # e.g. ISO-8859-1 declared and meant
            self._decoder = codecs.getincrementaldecoder(self._fallback)("replace")
            text = self._decoder.decode(pending + chunk, final)
            bad = text.count(_REPLACED) - chunk.count(_REPLACED_BYTES)
        self._seen_non_ascii = self._seen_non_ascii or not chunk.isascii()
        self.replaced += max(bad, 0)
        return text.encode("utf-8")

    def _ascii_until_error(self, data: bytes) -> bool:
        """No UTF-8 seen yet: everything before the first byte that is not UTF-8 was ASCII."""
        if self._seen_non_ascii:
            return False
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            return data[: error.start].isascii()
        return False


class BodyReader:
    """One response body, read once: `chunks()` yields it as UTF-8; `sha256`, `size` afterwards."""

    def __init__(self, response: requests.Response, limit: int, guard: AttemptGuard, read_timeout: float):
        self.response = response
        self.limit = limit
        self.guard = guard
        self.read_timeout = read_timeout
        self.size = 0
        self.text_size = 0
        self.head = bytearray()  # the first HEAD_BYTES of the UTF-8 text
        self.complete = False
        self._digest = hashlib.sha256()
        self._repair = TextRepair(response.headers.get("Content-Type", ""))

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    @property
    def undecodable(self) -> int:
        return self._repair.replaced

    def chunks(self) -> Iterator[bytes]:
        declared = self.response.headers.get("Content-Length", "")
        encoded = self.response.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
        if declared.isdigit() and int(declared) > self.limit and not encoded:
            raise Final(f"body larger than {size_text(self.limit)}")
        quoteless = 0
        for raw in self._raw_chunks():
            self.size += len(raw)
            if self.size > self.limit:
                raise Final(f"body larger than {size_text(self.limit)}")
            self._digest.update(raw)
            last_quote = raw.rfind(b'"')
            quoteless = quoteless + len(raw) if last_quote < 0 else len(raw) - last_quote - 1
            if quoteless > QUOTELESS_LIMIT:
                raise Final(
                    f"refused after {size_text(self.size)}: {size_text(QUOTELESS_LIMIT)} of the body hold no "
                    "JSON string (blank padding or a decompression bomb)"
                )
            text = self._repair.feed(raw)
            if text:
                yield self._keep_head(text)
        self.complete = True
        tail = self._repair.feed(b"", final=True)
        if tail:
            yield self._keep_head(tail)

    def _keep_head(self, text: bytes) -> bytes:
        self.text_size += len(text)
        if len(self.head) < HEAD_BYTES:
            self.head += text[: HEAD_BYTES - len(self.head)]
        return text

    def _raw_chunks(self) -> Iterator[bytes]:
        try:
            for raw in self.response.iter_content(CHUNK_BYTES):
                self._check_deadline()
                yield raw
        except requests.Timeout:
            self._check_deadline()
            raise Retryable(f"timed out reading the body (after {size_text(self.size)})") from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:
            self._check_deadline()
            if error.args and isinstance(error.args[0], ReadTimeoutError):  # how requests wraps it
                raise Retryable(
                    f"timed out reading the body (no data within {self.read_timeout:g} s)"
                ) from None
            raise Retryable(
                f"connection broke while reading the body (after {size_text(self.size)})"
            ) from None
        except requests.exceptions.ContentDecodingError:
            raise Retryable("body could not be decompressed") from None
        self._check_deadline()

    def _check_deadline(self) -> None:
        if self.guard.expired:
            read = f" ({size_text(self.size)} read)" if self.size else ""
            raise Final(
                f"{self.guard.deadline.what} passed before the body was complete{read}", kind=DeadlineError
            )


def _one_line(error: Exception) -> str:
    text = str(error)
    if text.startswith(("b'", 'b"')):  # ijson quotes a bytes message now and then
        text = text[2:]
    first = text.replace("\\n", "\n").strip().splitlines()
    return (first[0] if first else type(error).__name__).strip().rstrip(".")


def _prefix_for(first_byte: bytes, paths: Sequence[str]) -> str:
    """The first path that fits the document: one into a top-level list (`item...`) when the body
    is a list, else one into an object ("" fits both)."""
    is_list = first_byte == b"["
    for path in paths:
        if path == "" or (path.split(".", 1)[0] == "item") == is_list:
            return path
    return paths[0]


def list_at(document: Any, path: str) -> list | None:
    """The list an item path (`dataset.item`) points into, in a parsed document; None if absent."""
    parts = path.split(".")
    if parts[-1:] != ["item"]:
        return None
    for key in parts[:-1]:
        if not isinstance(document, dict) or key not in document:
            return None
        document = document[key]
    return document if isinstance(document, list) else None


def json_items(reader: BodyReader, paths: Sequence[str], content_type: str = "") -> Iterator[Any]:
    """The items at the first of `paths` (ijson prefixes, "" = the whole document) that fits the
    body, each as soon as it is complete. Raises Final for invalid JSON (another attempt would
    get it again), Retryable for JSON that stops early (a cut body), NotJsonError-kind Final
    for an HTML page."""
    chunks = reader.chunks()
    pending: list[bytes] = []
    first = b""
    for chunk in chunks:
        pending.append(chunk)
        stripped = chunk.lstrip()
        if stripped:
            first = stripped[:1]
            break
    is_html = "html" in content_type.lower()
    if first == b"<" and is_html:
        raise Final(_HTML, kind=NotJsonError)
    source = _ChunkFile(pending, chunks)
    try:  # ijson's pull interface: its C parser asks for chunks (the push one is 4 times slower)
        yield from ijson.items(source, _prefix_for(first, paths), use_float=True, buf_size=CHUNK_BYTES)
    except ijson.JSONError as error:
        reason = _one_line(error)
        if "premature EOF" in reason or "Incomplete JSON content" in reason:
            raise Retryable(
                f"returned JSON that stops early (truncated body? {size_text(reader.size)} read)"
            ) from None
        if is_html:
            raise Final(_HTML, kind=NotJsonError) from None
        raise Final(f"returned invalid JSON ({reason})") from None


_HTML = "returned an HTML page, not JSON (is this the API URL?)"


class _ChunkFile:
    """A read-only file over chunks, for ijson: `read(n)` gives at most n bytes, b"" at the end."""

    def __init__(self, pending: list[bytes], rest: Iterator[bytes]):
        self._pending = list(reversed(pending))
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson asks for 0 bytes first, to learn whether the file gives bytes or text
            return b""
        chunk = self._pending.pop() if self._pending else next(self._rest, b"")
        if 0 < size < len(chunk):
            self._pending.append(chunk[size:])
            chunk = chunk[:size]
        return chunk


def holds_replacement(value: Any) -> bool:
    """Whether any string in a parsed JSON value (keys included) holds U+FFFD; no recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _REPLACED in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def small_document(reader: BodyReader) -> Any:
    """The whole body parsed, when it was read to its end and fits in the kept head; else None."""
    if not reader.complete or reader.text_size > HEAD_BYTES:
        return None
    try:
        return json.loads(bytes(reader.head))
    except ValueError:
        return None
