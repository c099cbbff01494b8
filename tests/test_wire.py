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


def test_zero_d_arrays_and_numpy_scalars_keep_their_shape_and_type():
    back = roundtrip({"mu": np.asarray(0.9), "t": np.int64(3), "lr": np.float32(0.5),
                      "flag": np.bool_(True)})
    assert type(back["mu"]) is np.ndarray and back["mu"].shape == () and back["mu"] == 0.9
    assert type(back["t"]) is np.int64 and back["t"] == 3
    assert type(back["lr"]) is np.float32 and type(back["flag"]) is np.bool_


def test_an_array_referenced_twice_is_refused_so_a_reply_cannot_amplify():
    ref = {"$nd": 0, "dtype": "<f8", "shape": [4]}
    with pytest.raises(wire.WireError, match="referenced twice"):
        raw_message([ref] * 48, [b"\0" * 32])


def test_arrays_arrive_without_extra_copies_of_the_payload():
    import tracemalloc
    value = [np.zeros(2**20) for _ in range(8)]  # 64 MiB
    packed = wire.pack(value)
    tracemalloc.start()
    back = wire.read_message(io.BytesIO(packed).read)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(back) == 8
    # the payload once (read) and the arrays once (decoded): no slice copies between
    assert peak < 2.5 * 64 * 2**20


def test_lone_surrogates_are_replaced_so_any_text_can_be_written():
    back = raw_message({"$dict": {"message\udc80": "bad \udc80 text", "ok": ["\ud800"]}})
    for text in [*back, back["message\ufffd"], back["ok"][0]]:
        text.encode("utf-8")  # raises on a lone surrogate
    assert back["message\ufffd"] == "bad \ufffd text"


def test_integers_beyond_64_bits_arrive_as_floats():
    back = raw_message({"$dict": {"t": 10**30, "u": -(10**400), "v": 2**63 - 1}})
    assert back["t"] == 1e30 and back["u"] == float("-inf") and back["v"] == 2**63 - 1


def test_what_is_not_plain_data_is_refused_or_travels_as_its_description():
    value = {"dtype": np.dtype("float32"), "seen": {1}, "w": np.ones(2), "keys": {1: 2}}
    with pytest.raises(wire.WireError, match="cannot be sent"):
        wire.pack(value)  # the grader's own requests hold plain data only
    back = wire.read_message(io.BytesIO(wire.pack(value, opaque=True)).read)
    assert back["w"].tolist() == [1.0, 1.0]
    assert [back[k].described for k in ("dtype", "seen", "keys")] == [
        "a value of type Float32DType", "a value of type set",
        "a dict with keys that are not strings"]


def test_a_trace_travels_as_columns_and_arrives_as_the_same_steps():
    trace = [{"velocity": np.full(3, i, dtype=np.float32), "learning_rate": 1e-2, "t": i,
              "scale": np.asarray(0.5 * i), "note": "kept", "next_w": np.arange(3.0) + i}
             for i in range(60)]
    arrays: list = []
    header = wire.encode(wire.columns(trace), arrays)
    assert len(arrays) == 3  # velocity, scale and next_w: one array each over the 60 steps
    assert header["$columns"]["stacked"] == [True, False, False, True, False, True]
    back = roundtrip(wire.columns(trace))
    assert [list(step) for step in back] == [list(step) for step in trace]
    for got, want in zip(back, trace):
        for key, value in want.items():
            assert type(got[key]) is type(value), key
            if isinstance(value, np.ndarray):
                assert got[key].dtype == value.dtype and got[key].shape == value.shape
                assert np.array_equal(got[key], value)
            else:
                assert got[key] == value


@pytest.mark.parametrize("trace", [
    [{"w": np.zeros(2)}, {"v": np.zeros(2)}],          # steps with other quantities
    [{"w": np.zeros(2)}, {"w": np.zeros(2), "v": 1}],
    [{"w": np.zeros(2), "v": 1}, {"v": 1, "w": np.zeros(2)}],  # another order
    [{1: np.zeros(2)}], [], "not a trace", [{"w": 1}, 5]])
def test_what_is_not_a_trace_of_like_steps_travels_unchanged(trace):
    assert wire.columns(trace) is trace


def test_columns_of_unlike_arrays_travel_step_by_step():
    trace = [{"w": np.zeros(2)}, {"w": np.zeros(3)}, {"w": np.zeros(3, dtype=np.int64)}]
    arrays: list = []
    assert wire.encode(wire.columns(trace), arrays)["$columns"]["stacked"] == [False]
    assert [step["w"].shape for step in roundtrip(wire.columns(trace))] == [(2,), (3,), (3,)]


def column_tag(steps=2, keys=("w",), stacked=(True,), values=None):
    values = [{"$nd": 0, "dtype": "<f8", "shape": [2, 3]}] if values is None else values
    return {"$columns": {"steps": steps, "keys": list(keys), "stacked": list(stacked),
                         "values": values}}


@pytest.mark.parametrize("tag, match", [
    (column_tag(steps=3), "length is not the trace's steps"),
    (column_tag(steps=0), "malformed trace columns"),
    (column_tag(steps=True), "malformed trace columns"),
    (column_tag(keys=("w", "w"), stacked=(True, True)), "malformed trace columns"),
    (column_tag(stacked=(False,)), "malformed trace columns"),
    (column_tag(stacked=(False,), values=[[1, 2, 3]]), "length is not the trace's steps"),
    (column_tag(keys=("w", "v"), stacked=(True, True),
                values=[{"$nd": 0, "dtype": "<f8", "shape": [2, 3]}] * 2), "referenced twice"),
    (column_tag(steps=10**6, keys=("a", "b"), stacked=(False, False), values=[[], []]),
     "quantities in all"),
    (column_tag(steps=10**6, keys=(), stacked=(), values=[]), "quantities in all"),
])
def test_forged_trace_columns_are_refused_before_any_step_is_built(tag, match):
    with pytest.raises(wire.WireError, match=match):
        raw_message({"$tuple": [tag]}, [np.zeros((2, 3)).tobytes()])


def test_a_functions_cases_are_packed_once_and_sent_as_packed():
    cases = [{"function": "f", "x": np.arange(3.0)}, {"function": "f", "x": np.ones(2)}]
    packed = wire.cases_request("f", cases)
    assert wire.cases_request("f", list(cases)) is packed  # another list, the same cases
    assert wire.pack(packed) == packed.data
    back = wire.read_message(io.BytesIO(packed.data).read)
    assert back["op"] == "cases" and back["fn"] == "f"
    assert [c["x"].tolist() for c in back["cases"]] == [[0.0, 1.0, 2.0], [1.0, 1.0]]
    equal = [dict(case) for case in cases]  # equal cases, other objects: packed on their own
    assert wire.cases_request("f", equal) is not packed
    assert wire.cases_request("g", cases) is not packed
    assert wire.cases_request("f", cases[:1]) is not packed


def test_packed_requests_are_kept_for_the_most_recent_lists_only():
    first = [{"function": "f", "n": 0}]
    packed = wire.cases_request("f", first)
    for n in range(wire.KEPT_REQUESTS):
        wire.cases_request("f", [{"function": "f", "n": n}])
    assert len(wire._REQUESTS) <= wire.KEPT_REQUESTS
    assert wire.cases_request("f", first) is not packed  # forgotten, then packed again


def test_quantities_kept_as_python_numbers_arrive_with_a_float_column():
    trace = [{"t": i, "lr": 0.5 / (i + 1), "flag": True, "single": np.float32(i),
              "big": 2 ** 62 + i, "w": np.zeros(2)} for i in range(4)]
    back = roundtrip(wire.columns(trace))
    assert set(back.columns) == {"t", "lr", "big", "w"}  # no bools, no numpy scalars
    assert back.columns["t"].dtype == np.float64 and back.columns["t"].tolist() == [0, 1, 2, 3]
    assert back.columns["lr"].tolist() == [step["lr"] for step in trace]
    assert [type(step["t"]) for step in back] == [int] * 4  # the steps keep their values
    assert set(wire.Steps.of(trace).columns) == {"t", "lr", "big", "w"}


def test_a_number_too_large_for_a_float_has_no_column():
    assert wire.number_column([1, 10 ** 400]) is None
    assert wire.number_column([1, 2.5]).tolist() == [1.0, 2.5]


@pytest.mark.parametrize("values", [[0.5, -1.0], [1, 2 ** 63 - 1, -2 ** 63], [1, 2 ** 63],
                                    [1, 2.5], [True, 1], [1.0, "1"], []])
def test_lists_of_numbers_decode_as_element_by_element(values):
    decoded = wire.decode(values, [])
    assert decoded == [wire.decode(v, []) for v in values]
    assert [type(v) for v in decoded] == [type(wire.decode(v, [])) for v in values]


@pytest.mark.parametrize("values", [[0.5, -1.0], [1, 2 ** 70], [0.5, float("nan")],
                                    [1, 2.5], [True, 1], [np.float32(1.5)], []])
def test_lists_of_numbers_encode_as_element_by_element(values):
    whole, one_by_one = [], []
    assert wire.encode(values, whole) == [wire.encode(v, one_by_one) for v in values]
    assert whole == one_by_one
