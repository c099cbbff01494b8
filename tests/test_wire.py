"""Only plain data crosses from the sandbox: arrays as .npy without pickle, the rest JSON."""
import io
import json
import pickle
import struct

import numpy as np
import pytest

from autograder.sandbox import wire


def roundtrip(value):
    packed = wire.pack(value)
    stream = io.BytesIO(packed)
    return wire.read_message(stream.read)


def test_values_keep_their_types():
    value = (np.arange(6.0).reshape(2, 3), {"t": 3, "lr": 1e-3, "ok": True, "nan": float("nan")},
             [1, "a", None], np.float32(2.5))
    back = roundtrip(value)
    assert isinstance(back, tuple) and back[0].shape == (2, 3) and back[0].dtype == np.float64
    assert back[1]["t"] == 3 and np.isnan(back[1]["nan"]) and back[3] == 2.5


def test_ndarray_subclasses_arrive_as_plain_arrays():
    back = roundtrip(np.ma.masked_array([1.0, 2.0], mask=[0, 1]))
    assert type(back) is np.ndarray


def raw_message(body, arrays=()):
    header = json.dumps({"body": body, "arrays": [len(a) for a in arrays]}).encode()
    stream = io.BytesIO(struct.pack(">I", len(header)) + header + b"".join(arrays))
    return wire.read_message(stream.read)


@pytest.mark.parametrize("dtype", ["|O", "<U3", "|V8", ">f8", "<c16", "float64"])
def test_arrays_of_other_dtypes_are_refused(dtype):
    with pytest.raises(wire.WireError, match="refused"):
        raw_message({"$nd": 0, "dtype": dtype, "shape": [1]}, [b"\0" * 16])


def test_a_pickle_in_place_of_an_array_is_refused():
    with pytest.raises(wire.WireError, match="does not match"):
        raw_message({"$nd": 0, "dtype": "<f8", "shape": [2]}, [pickle.dumps([1, 2])])


def test_an_object_array_cannot_be_sent():
    with pytest.raises(wire.WireError, match="dtype object"):
        wire.pack(np.array([object()]))


def test_deep_nesting_is_refused():
    body = 1
    for _ in range(wire.MAX_DEPTH + 5):
        body = [body]
    with pytest.raises(wire.WireError, match="nested"):
        raw_message(body)


@pytest.mark.parametrize("body", [{"$nd": 5, "dtype": "<f8", "shape": [1]}, {"$tuple": 3},
                                  {"$eval": "1"}, {"a": 1, "b": 2}, {"$float": "1e400"},
                                  {"$nd": 0, "dtype": "<f8", "shape": [-1]}])
def test_malformed_tags_are_refused(body):
    with pytest.raises(wire.WireError):
        raw_message(body)


def test_oversized_headers_are_refused():
    stream = io.BytesIO(struct.pack(">I", wire.MAX_HEADER + 1))
    with pytest.raises(wire.WireError, match="limit"):
        wire.read_message(stream.read)
