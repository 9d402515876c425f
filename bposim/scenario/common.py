"""Shared pieces of the scenario models: the strict base model, clock times and located errors."""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from bposim.fields import NumberBoundsSchema

SECONDS_PER_DAY = 86_400
MAX_FILE_BYTES = 10 * 2**20
"""Scenario, experiment and roster files larger than this are refused before they are read."""
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


def read_text_file(path: Path, kind: str) -> str:
    """A file a planner hands us, as text: at most MAX_FILE_BYTES of UTF-8 (a byte-order mark is dropped).

    Reads no more than the limit allows, whatever the path is (a device, a pipe, a huge file); `kind` says what
    the file should be, for the messages. Problems raise ValueError (OSError for a file that cannot be opened).
    """
    with path.open("rb") as handle:
        raw = handle.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise ValueError(f"the file is larger than {MAX_FILE_BYTES // 2**20} MB; {kind}")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ValueError("the file is UTF-16 text; save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValueError(f"line {line}: byte {raw[exc.start]:#04x} is not UTF-8 text; save the file as UTF-8") from None


class Model(BaseModel):
    """A frozen model that rejects unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @classmethod
    def model_json_schema(cls, *args: Any, schema_generator: type = NumberBoundsSchema, **options: Any) -> dict:
        """pydantic's JSON schema, with the bounds of the shared number types as minimum/maximum."""
        return super().model_json_schema(*args, schema_generator=schema_generator, **options)


def clock_seconds(value: str) -> int:
    """Seconds after midnight of an HH:MM clock time (24:00 allowed)."""
    match = _CLOCK.match(value)
    if not match or int(match[1]) > 24 or int(match[2]) > 59 or (int(match[1]) == 24 and int(match[2])):
        raise ValueError(f"'{value}' is not a clock time; write HH:MM between 00:00 and 24:00")
    return int(match[1]) * 3600 + int(match[2]) * 60


def _clock_time(value: str) -> str:
    clock_seconds(value)
    return value


Clock = Annotated[str, AfterValidator(_clock_time)]
"""An HH:MM clock time between 00:00 and 24:00, checked on validation."""


def custom_error(title: str, errors: list[tuple[tuple[str | int, ...], str, Any]]) -> ValidationError:
    """A pydantic ValidationError carrying cross-field problems, each at its own field path."""
    details = [
        InitErrorDetails(type=PydanticCustomError("scenario", message), loc=loc, input=value)
        for loc, message, value in errors
    ]
    return ValidationError.from_exception_data(title, details)
