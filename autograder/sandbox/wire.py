"""The message format between the grader and the sandboxed worker.

A message is a 4-byte big-endian length, a JSON header of that length, then the raw
bytes of the arrays it refers to. Arrays travel as .npy files and are loaded with
``allow_pickle=False``; everything else must be JSON. Nothing is ever unpickled or
evaluated. Both sides import this file: the worker from its read-only copy in the sandbox.

Tagged values inside the header: ``{"$nd": i}`` is the i-th array, ``{"$tuple": [...]}``
a tuple, ``{"$dict": {...}}`` a dict with string keys, ``{"$float": "nan"}`` a
non-finite float. Plain JSON values stand for themselves.
"""
import io
import json
import math
import struct

import numpy as np

MAX_HEADER = 8 * 2**20
MAX_ARRAY_BYTES = 256 * 2**20
ARRAY_KINDS = "biuf"  # bool, signed and unsigned int, float: nothing that can hold objects


class WireError(Exception):
    """A message that breaks the format: too large, malformed, or of a forbidden type."""


def encode(value, arrays: list) -> object:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {"$float": repr(float(value))}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in ARRAY_KINDS:
            raise WireError(f"an array of dtype {value.dtype} cannot be sent; use numbers")
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(value).view(np.ndarray), allow_pickle=False)
        arrays.append(buffer.getvalue())
        return {"$nd": len(arrays) - 1}
    if isinstance(value, np.generic) and value.dtype.kind in ARRAY_KINDS:
        return encode(value.item(), arrays)
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return [encode(v, arrays) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise WireError("a dict with keys that are not strings cannot be sent")
        return {"$dict": {k: encode(v, arrays) for k, v in value.items()}}
    raise WireError(f"a value of type {type(value).__name__} cannot be sent")


def decode(value, arrays: list[bytes]):
    if isinstance(value, list):
        return [decode(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        raise WireError("malformed tagged value")
    (tag, body), = value.items()
    if tag == "$nd":
        if not isinstance(body, int) or not 0 <= body < len(arrays):
            raise WireError("reference to a missing array")
        return load_array(arrays[body])
    if tag == "$tuple" and isinstance(body, list):
        return tuple(decode(v, arrays) for v in body)
    if tag == "$dict" and isinstance(body, dict):
        return {str(k): decode(v, arrays) for k, v in body.items()}
    if tag == "$float" and body in ("nan", "inf", "-inf"):
        return float(body)
    raise WireError(f"malformed tagged value {tag!r}")


def load_array(raw: bytes) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except Exception as exc:
        raise WireError(f"not a valid .npy array: {exc}") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in ARRAY_KINDS:
        raise WireError(f"array of dtype {getattr(array, 'dtype', '?')} refused")
    return array.view(np.ndarray)


def pack(body) -> bytes:
    arrays: list[bytes] = []
    header = json.dumps({"body": encode(body, arrays), "arrays": [len(a) for a in arrays]},
                        allow_nan=False).encode("utf-8")
    return struct.pack(">I", len(header)) + header + b"".join(arrays)


def unpack_header(raw: bytes) -> tuple[object, list[int]]:
    try:
        header = json.loads(raw.decode("utf-8"))
        body, sizes = header["body"], header["arrays"]
    except Exception as exc:
        raise WireError(f"malformed header: {exc}") from None
    if not isinstance(sizes, list) or not all(isinstance(n, int) and n >= 0 for n in sizes):
        raise WireError("malformed array sizes")
    if sum(sizes) > MAX_ARRAY_BYTES:
        raise WireError(f"arrays larger than {MAX_ARRAY_BYTES} bytes")
    return body, sizes


def read_message(read_exact) -> object:
    """Read one message with ``read_exact(n) -> bytes`` (which enforces any deadline)."""
    (length,) = struct.unpack(">I", read_exact(4))
    if length > MAX_HEADER:
        raise WireError(f"header of {length} bytes is over the {MAX_HEADER}-byte limit")
    body, sizes = unpack_header(read_exact(length))
    arrays = [read_exact(n) for n in sizes]
    return decode(body, arrays)
