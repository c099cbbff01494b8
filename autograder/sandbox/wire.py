"""The message format between the grader and the sandboxed worker.

A message is a 4-byte big-endian length, a JSON header of that length, then the raw
bytes of the arrays it refers to. An array travels as its little-endian buffer, with its
dtype (from a short list of number types) and shape in the header; everything else must be
JSON. Nothing is ever unpickled or evaluated, and no object array can be expressed. (A .npy
file per array would carry the same information; parsing its header cost more than the
rest of a trajectory's grading.) Both sides import this file: the worker from its read-only
copy in the sandbox.

Tagged values inside the header: ``{"$nd": i, "dtype": "<f8", "shape": [2, 3]}`` is the
i-th array (``"scalar": true`` marks a numpy scalar such as ``np.float32(2.5)``, sent as its
0-d array), ``{"$tuple": [...]}`` a tuple, ``{"$dict": {...}}`` a dict with string keys,
``{"$float": "nan"}`` a non-finite float, ``{"$opaque": "a value of type set"}`` what the
worker held that is not plain data. Plain JSON values stand for themselves.

A trace (a list of steps, each a dict of the same quantities) travels as its columns:
``{"$columns": {"steps": n, "keys": [...], "stacked": [...], "values": [...]}}``, one value
per quantity, either one array over the steps (``stacked``: every step held an array of one
dtype and shape) or the list of the steps' values. A 60-step trajectory is then a handful
of arrays, not hundreds; the grader builds the steps back as views of those arrays.

The grader reads messages from code it does not trust, so decoding is bounded before
anything is built: the header's size, the arrays' total size, nesting depth, each array
referenced at most once (a reply cannot make one buffer into many copies), at most
MAX_CELLS quantities in all the steps of a trace sent as columns, strings cleaned of lone
surrogates (which no UTF-8 file can hold), and integers kept within 64 bits.
"""
import json
import math
import re
import struct
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

# A trace's header is a few KiB (the numbers travel as raw arrays); JSON expands roughly
# tenfold into Python objects, so this bounds what a header can cost the grader.
MAX_HEADER = 2 * 2**20
MAX_ARRAY_BYTES = 64 * 2**20
INT_RANGE = (-2**63, 2**63 - 1)  # larger integers arrive as floats: no step counter needs more
MAX_DEPTH = 64  # nesting of lists, tuples and dicts
# what a child of the warm template sends once it is in its sandbox's cgroups (zygote.py)
JOINED = b"joined"
# Steps times quantities of a trace sent as columns: each becomes a dict entry in the grader
# (the header bounds them in any other form). A hidden trajectory has 60 steps.
MAX_CELLS = 200_000
SURROGATES = re.compile("[\ud800-\udfff]")
ARRAY_KINDS = "biuf"  # bool, signed and unsigned int, float: nothing that can hold objects
DTYPES = {np.dtype(t).str: np.dtype(t) for t in (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
    np.uint64, np.float16, np.float32, np.float64)}


class WireError(Exception):
    """A message that breaks the format: too large, malformed, or of a forbidden type."""


@dataclass(frozen=True)
class Opaque:
    """What the grader receives for a value the worker held that is not plain data (a
    dtype or a set stored in a config, an object): its description only. A trace that
    carries one is still compared on the quantities that matter."""

    described: str

    def __repr__(self) -> str:
        return f"<{self.described}>"


@dataclass(frozen=True)
class Columns:
    """A trace as its columns (see the module's docstring); made by :func:`columns`."""

    steps: int
    keys: list
    values: list  # per key: one stacked array, or the list of the steps' values


class Steps(list):
    """The steps of a trace, with ``columns``: {quantity: its array over the steps} for the
    quantities held as arrays of one dtype and shape at every step (each step's value is a
    view of its column), and as a float array for those held as Python numbers (ints and
    floats, such as Adam's step count); the checks compare those whole."""

    def __init__(self, steps: list, columns: dict):
        super().__init__(steps)
        self.columns = columns

    @classmethod
    def of(cls, trace: list) -> "Steps":
        """A trace made in this process (the reference's), with its columns."""
        made = columns(trace)
        if not isinstance(made, Columns):
            return cls(trace, {})
        whole = {k: v if isinstance(v, np.ndarray) else number_column(v)
                 for k, v in zip(made.keys, made.values)}
        return cls(trace, {k: v for k, v in whole.items() if v is not None})


def number_column(values: list) -> np.ndarray | None:
    """``values`` as one float array when each is an int or a float (not a bool, not a
    numpy scalar), else None."""
    if not set(map(type, values)) <= {int, float}:
        return None
    try:
        return np.array(values, dtype=float)
    except OverflowError:  # an int beyond a float's range: compared step by step
        return None


def columns(trace):
    """``trace`` as Columns when it is a list of dicts with the same string keys in the same
    order, else ``trace`` unchanged."""
    if not isinstance(trace, list) or not trace or \
            not all(type(step) is dict for step in trace):
        return trace
    keys = list(trace[0])
    if not all(isinstance(k, str) for k in keys) or any(list(step) != keys for step in trace):
        return trace
    return Columns(len(trace), keys, [_column([step[k] for step in trace]) for k in keys])


def _column(values: list):
    first = values[0]
    if type(first) is np.ndarray and first.dtype.kind in ARRAY_KINDS and all(
            type(v) is np.ndarray and v.dtype == first.dtype and v.shape == first.shape
            for v in values):
        return np.stack(values)
    return values


def _sent_as_they_are(values: list) -> bool:
    """Whether ``values`` are all integers or all finite floats: each encodes to itself."""
    types = set(map(type, values))
    return types == {int} or (types == {float} and all(map(math.isfinite, values)))


def encode(value, arrays: list, opaque: bool = False) -> object:
    """The header form of ``value``; its arrays appended to ``arrays``. A value that is not
    plain data raises WireError, or with ``opaque`` (the worker's replies) travels as its
    description."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {"$float": repr(float(value))}
    if isinstance(value, np.ndarray) and value.dtype.kind in ARRAY_KINDS:
        return _encode_array(value, arrays)
    if isinstance(value, np.generic) and value.dtype.kind in ARRAY_KINDS:
        return {**_encode_array(np.asarray(value), arrays), "scalar": True}
    if isinstance(value, Columns):
        return {"$columns": {"steps": value.steps, "keys": value.keys,
                             "stacked": [isinstance(v, np.ndarray) for v in value.values],
                             "values": [encode(v, arrays, opaque) for v in value.values]}}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, arrays, opaque) for v in value]}
    if isinstance(value, list):
        if _sent_as_they_are(value):
            return list(value)  # a column of a trace's Python numbers, sent as they are
        return [encode(v, arrays, opaque) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"$dict": {k: encode(v, arrays, opaque) for k, v in value.items()}}
    described = (f"an array of dtype {value.dtype}" if isinstance(value, np.ndarray) else
                 "a dict with keys that are not strings" if isinstance(value, dict) else
                 f"a value of type {type(value).__name__}")
    if opaque:
        return {"$opaque": described}
    raise WireError(f"{described} cannot be sent" + ("; use numbers"
                                                     if isinstance(value, np.ndarray) else ""))


def _encode_array(value: np.ndarray, arrays: list) -> dict:
    # np.array, not np.ascontiguousarray: the latter turns a 0-d array into shape (1,)
    plain = np.array(value.view(np.ndarray), dtype=value.dtype.newbyteorder("<"), order="C")
    arrays.append(plain.tobytes())
    return {"$nd": len(arrays) - 1, "dtype": plain.dtype.str, "shape": list(plain.shape)}


def _as_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def clean_text(text: str) -> str:
    """``text`` with lone surrogates replaced: JSON can carry them, no UTF-8 file can."""
    return SURROGATES.sub("\ufffd", text)


def _read_as_they_are(values: list) -> bool:
    """Whether ``values`` are all floats, or all integers within 64 bits: each decodes to
    itself (a trace's Python numbers, a step count over 60 steps)."""
    types = set(map(type, values))
    if types == {float}:
        return True
    return types == {int} and INT_RANGE[0] <= min(values) and max(values) <= INT_RANGE[1]


def decode(value, arrays: list, depth: int = 0, used: set | None = None):
    """The value a header stands for; ``used`` collects the arrays already taken."""
    used = set() if used is None else used
    if depth > MAX_DEPTH:
        raise WireError(f"values nested more than {MAX_DEPTH} deep")
    if isinstance(value, list):
        if _read_as_they_are(value):
            return list(value)
        return [decode(v, arrays, depth + 1, used) for v in value]
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and \
            not INT_RANGE[0] <= value <= INT_RANGE[1]:
        return _as_float(value)
    if not isinstance(value, dict):
        return value
    if "$nd" in value:
        return load_array(value, arrays, used)
    if len(value) != 1:
        raise WireError("malformed tagged value")
    (tag, body), = value.items()
    if tag == "$tuple" and isinstance(body, list):
        return tuple(decode(v, arrays, depth + 1, used) for v in body)
    if tag == "$dict" and isinstance(body, dict):
        return {clean_text(k): decode(v, arrays, depth + 1, used) for k, v in body.items()}
    if tag == "$float" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag == "$opaque" and isinstance(body, str):
        return Opaque(clean_text(body[:200]))
    if tag == "$columns" and isinstance(body, dict):
        return _steps(body, arrays, depth, used)
    raise WireError(f"malformed tagged value {tag!r}")


def _steps(body: dict, arrays: list, depth: int, used: set) -> list[dict]:
    """The steps of a trace sent as columns; stacked arrays are split into views."""
    steps, keys, stacked, values = (body.get(k) for k in ("steps", "keys", "stacked", "values"))
    if set(body) != {"steps", "keys", "stacked", "values"} or \
            not isinstance(steps, int) or isinstance(steps, bool) or steps < 1 or \
            not isinstance(keys, list) or not all(isinstance(k, str) for k in keys) or \
            len(set(keys)) != len(keys) or not isinstance(stacked, list) or \
            not all(isinstance(b, bool) for b in stacked) or not isinstance(values, list) or \
            not len(keys) == len(stacked) == len(values):
        raise WireError("malformed trace columns")
    if steps * max(1, len(keys)) > MAX_CELLS:
        raise WireError(f"a trace of more than {MAX_CELLS} quantities in all cannot be sent")
    built, whole = [], {}
    for key, is_stacked, value in zip(keys, stacked, values):
        if is_stacked:
            if not isinstance(value, dict) or "$nd" not in value:
                raise WireError("malformed trace columns")
            column = load_array(value, arrays, used)
            if not isinstance(column, np.ndarray) or column.ndim < 1 or len(column) != steps:
                raise WireError("a stacked column's length is not the trace's steps")
            built.append([column[i, ...] for i in range(steps)])  # 0-d steps stay arrays
            whole[clean_text(key)] = column
        else:
            if not isinstance(value, list):
                raise WireError("malformed trace columns")
            if len(value) != steps:
                raise WireError("a column's length is not the trace's steps")
            built.append(decode(value, arrays, depth + 2, used))
            numbers = number_column(built[-1])
            if numbers is not None:
                whole[clean_text(key)] = numbers
    keys = [clean_text(k) for k in keys]
    return Steps([dict(zip(keys, row)) for row in zip(*built)] if keys else
                 [{} for _ in range(steps)], whole)


def load_array(tag: dict, arrays: list, used: set):
    index, dtype, shape = tag.get("$nd"), tag.get("dtype"), tag.get("shape")
    scalar = tag.get("scalar", False)
    if not {"$nd", "dtype", "shape"} <= set(tag) <= {"$nd", "dtype", "shape", "scalar"} or \
            not isinstance(index, int) or isinstance(index, bool) or \
            not 0 <= index < len(arrays) or scalar not in (True, False):
        raise WireError("reference to a missing array")
    if index in used:
        raise WireError(f"array {index} referenced twice: each array is sent once")
    used.add(index)
    if dtype not in DTYPES:
        raise WireError(f"array of dtype {dtype!r} refused: numbers only")
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise WireError("malformed array shape")
    if len(shape) > MAX_DEPTH or (scalar and shape):
        raise WireError("malformed array shape")
    raw = arrays[index]
    if len(raw) != DTYPES[dtype].itemsize * math.prod(shape):
        raise WireError("array size does not match its shape")
    array = np.frombuffer(raw, dtype=DTYPES[dtype]).reshape(shape).copy()
    return array[()] if scalar else array


@dataclass(frozen=True)
class Packed:
    """A message packed once; pack() gives its bytes as they are."""

    data: bytes


# (function, the ids of its cases) -> (those cases, kept alive so that no other list can
# take their ids; the request packed), for the most recently used requests
_REQUESTS: "OrderedDict[tuple, tuple[tuple, Packed]]" = OrderedDict()
_REQUESTS_LOCK = threading.Lock()
KEPT_REQUESTS = 256


def cases_request(name: str, cases: list[dict]) -> Packed:
    """The request for ``name``'s ``cases``, packed once per list of the same case objects:
    every submission is sent the suite's same cases (the large batch norm batch is 2 MB)."""
    key = (name, tuple(map(id, cases)))
    with _REQUESTS_LOCK:  # a server or a caller may grade in threads
        held = _REQUESTS.get(key)
        if held is not None:
            _REQUESTS.move_to_end(key)
            return held[1]
    packed = Packed(pack({"op": "cases", "fn": name, "cases": list(cases)}))
    with _REQUESTS_LOCK:
        _REQUESTS[key] = (tuple(cases), packed)
        if len(_REQUESTS) > KEPT_REQUESTS:
            _REQUESTS.popitem(last=False)
    return packed


def pack(body, opaque: bool = False) -> bytes:
    if isinstance(body, Packed):
        return body.data
    arrays: list[bytes] = []
    encoded = encode(body, arrays, opaque)
    if sum(map(len, arrays)) > MAX_ARRAY_BYTES:
        raise WireError(f"arrays larger than {MAX_ARRAY_BYTES // 2**20} MiB cannot be sent")
    header = json.dumps({"body": encoded, "arrays": [len(a) for a in arrays]},
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
        raise WireError(f"arrays larger than {MAX_ARRAY_BYTES // 2**20} MiB cannot be sent")
    return body, sizes


def read_message(read_exact) -> object:
    """Read one message with ``read_exact(n) -> bytes`` (which enforces any deadline)."""
    (length,) = struct.unpack(">I", read_exact(4))
    if length > MAX_HEADER:
        raise WireError(f"header of {length} bytes is over the {MAX_HEADER}-byte limit")
    body, sizes = unpack_header(read_exact(length))
    payload = memoryview(read_exact(sum(sizes)) if sizes else b"")
    offsets = np.cumsum([0] + sizes).tolist()
    arrays = [payload[a:b] for a, b in zip(offsets, offsets[1:])]  # views: no copies
    try:
        return decode(body, arrays)
    except RecursionError:
        raise WireError("values nested too deep") from None
