"""A multipart upload streamed straight to a file under the data directory, with its size
limit enforced as the bytes arrive (a too-large upload is refused at the first byte over
the limit, never after it was all received). Only one file part; other parts are short
text fields."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks  # a TypedDict its stubs alone define

from biomatdb_api.problems import ProblemError
from biomatdb_ingest.readers import SUFFIXES, format_for

FIELD_MAX_BYTES = 64 * 1024
FIELDS_MAX = 32  # parts in one upload: the file and a few short fields
FIELDS_TOTAL_MAX_BYTES = 256 * 1024  # all text fields together
PART_HEADER_MAX_BYTES = 8 * 1024
UPLOAD_SUFFIXES = SUFFIXES  # every format the readers know (biomatdb_ingest.readers.FORMATS)
_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()+,-]+")


def safe_filename(name: str) -> str:
    """The last path component, with characters outside a plain set replaced."""
    base = re.split(r"[\\/]", name)[-1].strip().lstrip(".")
    base = _UNSAFE.sub("_", base)[:200]
    return base or "upload"


def too_large(limit: int) -> ProblemError:
    return ProblemError(413, f"the upload is larger than the limit of {limit:,} bytes", code="too-large", limit=limit)


@dataclass
class ReceivedUpload:
    fields: dict[str, str] = field(default_factory=dict)  # a field sent more than once: its last value
    repeated: dict[str, list[str]] = field(default_factory=dict)  # every value of each field, in order
    file_field: str | None = None
    filename: str | None = None
    path: Path | None = None
    size: int = 0


class _Receiver:
    """python-multipart callbacks that route the file part to disk and fields to memory."""

    def __init__(self, directory: Path, limit: int) -> None:
        self.directory = directory
        self.limit = limit
        self.result = ReceivedUpload()
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name: str | None = None
        self._data = bytearray()
        self._handle: BinaryIO | None = None
        self._parts = 0
        self._field_bytes = 0

    def on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > FIELDS_MAX:
            raise ProblemError(413, f"the upload has more than {FIELDS_MAX} parts", code="too-large", limit=FIELDS_MAX)
        self._disposition, self._name, self._data = b"", None, bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]
        self._check_header()

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]
        self._check_header()

    def _check_header(self) -> None:
        if len(self._header_name) + len(self._header_value) > PART_HEADER_MAX_BYTES:
            raise ProblemError(
                413,
                f"a part's header is longer than {PART_HEADER_MAX_BYTES:,} bytes",
                code="too-large",
                limit=PART_HEADER_MAX_BYTES,
            )

    def on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if b"name" not in options:
            raise ProblemError(400, "a multipart part has no name", code="bad-upload")
        self._name = options[b"name"].decode("utf-8", "replace")
        if b"filename" in options:
            if self._handle is not None or self.result.path is not None:
                raise ProblemError(400, "send exactly one file per upload", code="bad-upload")
            filename = safe_filename(options[b"filename"].decode("utf-8", "replace"))
            self.directory.mkdir(parents=True, exist_ok=True)
            self.result.file_field, self.result.filename = self._name, filename
            self.result.path = self.directory / filename
            self._handle = self.result.path.open("wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._handle is not None:
            self.result.size += end - start
            if self.result.size > self.limit:
                raise too_large(self.limit)
            self._handle.write(data[start:end])
            return
        if len(self._data) + end - start > FIELD_MAX_BYTES:
            raise ProblemError(
                413, f"form field {self._name!r} is longer than {FIELD_MAX_BYTES:,} bytes", code="too-large"
            )
        self._field_bytes += end - start
        if self._field_bytes > FIELDS_TOTAL_MAX_BYTES:
            raise ProblemError(
                413,
                f"the upload's form fields add up to more than {FIELDS_TOTAL_MAX_BYTES:,} bytes",
                code="too-large",
                limit=FIELDS_TOTAL_MAX_BYTES,
            )
        self._data.extend(data[start:end])

    def on_part_end(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        elif self._name is not None:
            value = self._data.decode("utf-8", "replace")
            self.result.fields[self._name] = value
            self.result.repeated.setdefault(self._name, []).append(value)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


async def receive_upload(request: Request, *, directory: Path, limit: int) -> ReceivedUpload:
    """Parse the request's multipart body, writing its file part to ``directory``. On any
    refusal the directory is removed again."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise ProblemError(415, "send the dataset as multipart/form-data", code="unsupported-media-type")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + FIELD_MAX_BYTES * 8:
        raise too_large(limit)
    receiver = _Receiver(directory, limit)
    callbacks = cast(
        "MultipartCallbacks",
        {
            name: getattr(receiver, name)
            for name in (
                "on_part_begin",
                "on_part_data",
                "on_part_end",
                "on_header_field",
                "on_header_value",
                "on_header_end",
                "on_headers_finished",
            )
        },
    )
    parser = MultipartParser(params[b"boundary"], callbacks)
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except ProblemError:
        receiver.close()
        shutil.rmtree(directory, ignore_errors=True)
        raise
    except Exception as exc:  # python-multipart's own parse errors, a client that went away
        receiver.close()
        shutil.rmtree(directory, ignore_errors=True)
        raise ProblemError(400, "the multipart body could not be read", code="bad-upload") from exc
    except BaseException:  # the request task was cancelled: its partial file goes with it
        receiver.close()
        shutil.rmtree(directory, ignore_errors=True)
        raise
    receiver.close()
    if receiver.result.path is not None and format_for(receiver.result.path) is None:
        shutil.rmtree(directory, ignore_errors=True)
        raise unsupported(receiver.result.path.name)
    return receiver.result


def unsupported(filename: str) -> ProblemError:
    """415 for a file no reader opens: neither its name nor its first bytes say it is one of
    ``UPLOAD_SUFFIXES`` (the same test ``biomatdb ingest`` makes, ``readers.format_for``)."""
    return ProblemError(
        415,
        f"{filename}: unsupported file type; expected one of {', '.join(UPLOAD_SUFFIXES)}, "
        "or a workbook or JSON file under another name",
        code="unsupported-file-type",
    )
