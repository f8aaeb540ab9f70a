"""The binding cannot drift from include/wskit.h: every header function is declared in
_native's one table with matching argtypes/restype, status-returning functions have the errcheck,
callback typedefs and plain structs match, and enum values are equal."""

from __future__ import annotations

import ctypes
import os
import re
from typing import Any, Dict, List, Set, Tuple

import pytest

import wskit
from wskit import _native

HEADER = os.path.join(os.path.dirname(__file__), "..", "..", "..", "include", "wskit.h")


def header_text() -> str:
    with open(HEADER, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)  # comments
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"^\s*#[^\n]*", "", text, flags=re.M)  # preprocessor lines
    return text


def c_type_of(decl: str, named: bool = True) -> str:
    """Normalises a declaration to its type: `const char **out` -> `const char **`."""
    tokens = re.findall(r"[A-Za-z_]\w*|\*", decl)
    if named and len(tokens) > 1 and tokens[-1] != "*":
        tokens = tokens[:-1]
    words = [t for t in tokens if t != "*"]
    stars = tokens.count("*")
    return " ".join(words) + (" " + "*" * stars if stars else "")


def split_params(params: str) -> List[str]:
    params = " ".join(params.split())
    if params in ("void", ""):
        return []
    return [c_type_of(p) for p in params.split(",")]


def norm(c_type: str) -> str:
    return c_type_of(c_type, named=False)


def parse_functions(text: str) -> Dict[str, Tuple[str, List[str]]]:
    funcs = {}
    for m in re.finditer(r"([A-Za-z_][\w\s\*]*?)\b(wskit_\w+)\s*\(([^)]*)\)\s*;", text):
        ret, name, params = m.group(1), m.group(2), m.group(3)
        if "(*" in m.group(0) or "typedef" in ret:
            continue
        funcs[name] = (norm(ret), [norm(p) for p in split_params(params)])
    return funcs


def parse_callbacks(text: str) -> Dict[str, Tuple[str, List[str]]]:
    out = {}
    for m in re.finditer(r"typedef\s+(\w+)\s*\(\*\s*(\w+)\)\s*\(([^)]*)\)\s*;", text):
        out[m.group(2)] = (norm(m.group(1)), [norm(p) for p in split_params(m.group(3))])
    return out


def parse_enum(text: str, name: str) -> Dict[str, int]:
    m = re.search(r"enum\s+" + name + r"\s*(?::\s*\w+)?\s*\{(.*?)\}", text, flags=re.S)
    assert m, f"enum {name} not found in the header"
    return {k: int(v) for k, v in re.findall(r"(WSKIT_\w+)\s*=\s*(\d+)", m.group(1))}


def parse_structs(text: str) -> Dict[str, List[Tuple[str, str]]]:
    out = {}
    for m in re.finditer(r"typedef\s+struct\s*\{(.*?)\}\s*(\w+)\s*;", text, flags=re.S):
        fields = []
        for decl in m.group(1).split(";"):
            decl = " ".join(decl.split())
            if decl:
                fields.append((re.findall(r"\w+", decl)[-1], c_type_of(decl)))
        out[m.group(2)] = fields
    return out


# C type -> the ctypes types the binding may use for it. Byte buffers may be c_char_p (arguments:
# `bytes` pass without a copy) or c_void_p (callback arguments: not NUL-terminated, read with
# string_at); `const char *` may be c_void_p only where a length comes with it.
_SCALARS: Dict[str, Set[Any]] = {
    "void": {None},
    "bool": {ctypes.c_bool},
    "int": {ctypes.c_int},
    "int32_t": {ctypes.c_int32},
    "uint8_t": {ctypes.c_uint8},
    "uint16_t": {ctypes.c_uint16},
    "uint32_t": {ctypes.c_uint32},
    "uint64_t": {ctypes.c_uint64},
    "size_t": {ctypes.c_size_t},
    "wskit_status": {ctypes.c_uint32},
    "wskit_event_kind": {ctypes.c_uint32},
    "wskit_trace_kind": {ctypes.c_uint32},
    "wskit_trace_direction": {ctypes.c_uint32},
    "wskit_queue_flag": {ctypes.c_uint32},
    "const char *": {ctypes.c_char_p, ctypes.c_void_p},
    "const uint8_t *": {ctypes.c_char_p, ctypes.c_void_p},
    "void *": {ctypes.c_void_p},
}
_OPAQUE = {
    "wskit_ctx": _native.wskit_ctx,
    "wskit_config": _native.wskit_config,
    "wskit_remote": _native.wskit_remote,
    "wskit_header": _native.wskit_header,
    "wskit_event": _native.wskit_event,
    "wskit_queue_stats": _native.wskit_queue_stats,
    "wskit_stats": _native.wskit_stats,
    "wskit_reconnect_state": _native.wskit_reconnect_state,
    "wskit_trace": _native.wskit_trace,
    "wskit_deflate_params": _native.wskit_deflate_params,
    "wskit_send": _native.wskit_send,
}


def allowed(c_type: str) -> Set[Any]:
    if c_type in _SCALARS:
        return _SCALARS[c_type]
    if c_type in _native.CALLBACK_TYPES:
        return {_native.CALLBACK_TYPES[c_type]}
    if c_type.endswith("*"):
        inner = c_type[:-1].strip()  # `T **` -> `T *`, `T *` -> `T`
        if inner.startswith("const ") and not inner.endswith("*"):
            inner = inner[len("const "):]
        if inner in _OPAQUE:
            return {ctypes.POINTER(_OPAQUE[inner])}
        return {ctypes.POINTER(t) for t in allowed(inner) if t is not None}
    raise AssertionError(f"test_abi does not know the C type {c_type!r}: extend the mapping")


TEXT = header_text()
HEADER_FUNCS = parse_functions(TEXT)


def test_header_parsed() -> None:
    assert len(HEADER_FUNCS) > 80, sorted(HEADER_FUNCS)
    assert "wskit_ctx_poll" in HEADER_FUNCS


def test_every_header_function_is_declared() -> None:
    missing = sorted(set(HEADER_FUNCS) - set(_native.FUNCTIONS))
    assert not missing, f"functions in include/wskit.h missing from _native._FUNCTIONS: {missing}"
    extra = sorted(set(_native.FUNCTIONS) - set(HEADER_FUNCS))
    assert not extra, f"functions in _native._FUNCTIONS not in the header: {extra}"


@pytest.mark.parametrize("name", sorted(HEADER_FUNCS))
def test_function_types_match(name: str) -> None:
    c_ret, c_params = HEADER_FUNCS[name]
    argtypes, restype = _native.FUNCTIONS[name]
    assert len(argtypes) == len(c_params), f"{name}: {len(c_params)} C parameters, {len(argtypes)} argtypes"
    for i, (c_type, py_type) in enumerate(zip(c_params, argtypes)):
        assert py_type in allowed(c_type), f"{name} parameter {i}: C {c_type!r} vs {py_type}"
    assert restype in allowed(c_ret), f"{name} result: C {c_ret!r} vs {restype}"
    fn = getattr(_native.lib, name)
    assert fn.argtypes == argtypes and fn.restype == restype
    if c_ret == "wskit_status":
        assert name in _native.STATUS_FUNCTIONS and fn.errcheck is _native._errcheck, f"{name} lacks errcheck"
    else:
        assert name not in _native.STATUS_FUNCTIONS


def test_callback_typedefs_match() -> None:
    header = parse_callbacks(TEXT)
    assert set(header) == set(_native.CALLBACK_TYPES)
    for name, (c_ret, c_params) in header.items():
        cb = _native.CALLBACK_TYPES[name]
        assert cb._restype_ in allowed(c_ret), name
        assert len(cb._argtypes_) == len(c_params), name
        for i, (c_type, py_type) in enumerate(zip(c_params, cb._argtypes_)):
            assert py_type in allowed(c_type), f"{name} parameter {i}: C {c_type!r} vs {py_type}"


def test_structs_match() -> None:
    header = parse_structs(TEXT)
    assert set(header) == {"wskit_header", "wskit_event", "wskit_queue_stats", "wskit_stats", "wskit_trace",
                           "wskit_deflate_params", "wskit_send", "wskit_reconnect_state"}, sorted(header)
    for name in header:
        py_fields = _OPAQUE[name]._fields_
        assert [f for f, _ in header[name]] == [f for f, _ in py_fields], name
        for (field, c_type), (_, py_type) in zip(header[name], py_fields):
            assert py_type in allowed(c_type), f"{name}.{field}: C {c_type!r} vs {py_type}"


def test_status_values_match() -> None:
    """A status added to or removed from the header fails here until wskit.Status follows."""
    header = parse_enum(TEXT, "wskit_status")
    binding = {s.c_name: int(s) for s in wskit.Status}
    assert header == binding
    for status in wskit.Status:
        assert _native.status_name(int(status)) == status.c_name


def test_library_statuses_are_the_headers() -> None:
    """The numbers the binding reads from the library (wskit_status_name over its range) are the
    header's: every header value lies in the scanned range and the library names no other."""
    header = parse_enum(TEXT, "wskit_status")
    assert all(0 <= code < _native._STATUS_BOUND for code in header.values()), header
    assert _native.STATUS_CODES == header


def test_other_enum_values_match() -> None:
    """Event kinds, trace kinds and directions, queue flags: every header enum besides the status
    is mirrored in _native.ENUMS with equal names and values."""
    enums = set(re.findall(r"enum\s+(wskit_\w+)\s*(?::\s*\w+)?\s*\{", TEXT))
    assert enums - {"wskit_status"} == set(_native.ENUMS)
    for c_name, (py_enum, prefix) in _native.ENUMS.items():
        assert parse_enum(TEXT, c_name) == {prefix + n: int(m) for n, m in py_enum.__members__.items()}, c_name


def test_every_error_status_has_an_exception() -> None:
    """Each WSKIT_ERR_* of the header names its exception class, and the table names nothing else."""
    from wskit.errors import STATUS_NAME_TO_EXCEPTION, Error
    header = parse_enum(TEXT, "wskit_status")
    errors = {name for name in header if name.startswith("WSKIT_ERR_")}
    assert set(STATUS_NAME_TO_EXCEPTION) == errors
    for name, cls in STATUS_NAME_TO_EXCEPTION.items():
        exc = _native.make_error(header[name], "x")
        assert type(exc) is cls and issubclass(cls, Error) and (exc.code, exc.name) == (header[name], name)


def test_binding_errors_carry_the_library_numbers() -> None:
    exc = _native.error(wskit.Status.ERR_REENTRANT, "from a handler")
    assert isinstance(exc, wskit.ReentrantCall)
    assert exc.code == parse_enum(TEXT, "wskit_status")["WSKIT_ERR_REENTRANT"] and exc.name == "WSKIT_ERR_REENTRANT"


def test_no_status_numbers_in_the_binding() -> None:
    """Statuses are named, never numbered, in the binding's sources: no exception is built from a
    number literal and wskit.Status assigns no literal (its values come from the library)."""
    from wskit import errors
    classes = sorted(n for n, v in vars(errors).items()
                     if isinstance(v, type) and issubclass(v, errors.Error) and v is not errors.ConnectionClosed)
    numbered = re.compile(r"\b(?:" + "|".join(classes) + r")\(\s*\d")
    src = os.path.dirname(wskit.__file__)
    for name in sorted(os.listdir(src)):
        if name.endswith(".py"):
            with open(os.path.join(src, name), encoding="utf-8") as f:
                code = f.read()
            hit = numbered.search(code)
            assert hit is None, f"{name}: an exception built from a status number: {hit.group(0)}"
    with open(os.path.join(src, "_native.py"), encoding="utf-8") as f:
        body = f.read().split("class Status(", 1)[1].split("\nclass ", 1)[0]
    assert not re.search(r"^\s+[A-Z_0-9]+\s*=\s*\d", body, flags=re.M), "a status number written in wskit.Status"


def test_version_macros_match_library() -> None:
    major, minor, patch = (int(re.search(rf"#define WSKIT_VERSION_{p} (\d+)", open(HEADER).read()).group(1))
                           for p in ("MAJOR", "MINOR", "PATCH"))
    assert _native.version == (major << 16) | (minor << 8) | patch
    assert (major, minor) >= _native.EXPECTED_VERSION and major == _native.EXPECTED_VERSION[0]


def test_import_error_lists_every_place(tmp_path: Any) -> None:
    import subprocess
    import sys
    env = dict(os.environ, WSKIT_LIBRARY=str(tmp_path / "nope.so"))
    code = ("import wskit._native as n, os\n"
            "n.os.path.exists = lambda p: False\n"  # hide every candidate
            "n.ctypes.util.find_library = lambda name: None\n"
            "try:\n    n._load()\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    for where in ("$WSKIT_LIBRARY", "bundled in the package", "target/release", "system"):
        assert where in out, out


def test_lookup_order() -> None:
    """A bundled copy (a wheel's) wins over $WSKIT_LIBRARY, which wins over the checkout's target
    dirs, which win over the system."""
    order = [where for where, _ in _native._candidates()]
    assert order == ["bundled in the package", "$WSKIT_LIBRARY", "checkout target/release", "checkout target/debug",
                     "system (ctypes.util.find_library)"], order
