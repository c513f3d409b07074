#!/usr/bin/env python
"""Convert Resemblyzer's pretrained voice encoder into the numpy file the project ships.

Run once (the result, meetings/speech/data/speaker_encoder.npz, is committed):

    .venv/bin/pip download resemblyzer==0.1.4 --no-deps -d /tmp/resemblyzer
    .venv/bin/python scripts/speaker_model.py /tmp/resemblyzer/Resemblyzer-0.1.4-py3-none-any.whl

``pretrained.pt`` is in PyTorch's legacy serialisation: a few small pickles (magic number,
protocol version, system info), the main pickle whose tensors refer to storages by key, a pickle
with the sorted storage keys, then each storage as an 8-byte element count and its raw
little-endian data. It is read here with ``pickle`` and numpy only; torch is never imported.
Only the encoder's weights are kept (the training-time similarity scale and optimiser state are
dropped), stored as float16 unless ``--float32``.
"""

from __future__ import annotations

import argparse
import io
import pickle
import sys
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "meetings" / "speech" / "data" / "speaker_encoder.npz"
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
STORAGE_TYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
                 "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
                 "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_}
KEEP_PREFIXES = ("lstm.", "linear.")


class _TensorRef:
    def __init__(self, key: str, offset: int, size: tuple[int, ...], stride: tuple[int, ...]) -> None:
        self.key, self.offset, self.size, self.stride = key, offset, tuple(size), tuple(stride)


def _rebuild_tensor(storage, offset, size, stride, *_rest):
    return _TensorRef(storage, offset, size, stride)


class _LegacyUnpickler(pickle.Unpickler):
    """Knows only what a state dict needs; anything else is refused (no arbitrary code runs)."""

    def __init__(self, file, storages: dict[str, tuple[str, int]]) -> None:
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch" and name in STORAGE_TYPES:
            return name
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        raise pickle.UnpicklingError(f"refusing {module}.{name}")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, size = pid[:5]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unknown persistent id {kind!r}")
        self.storages.setdefault(key, (storage_type, size))
        return key


class _SmallUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"refusing {module}.{name}")


def read_legacy_state(data: bytes) -> dict[str, np.ndarray]:
    """{name: array} of the ``model_state`` in a legacy (non-zip) PyTorch checkpoint."""
    f = io.BytesIO(data)
    if _SmallUnpickler(f).load() != LEGACY_MAGIC:
        raise ValueError("not a legacy PyTorch file")
    _SmallUnpickler(f).load()  # protocol version
    info = _SmallUnpickler(f).load()
    if not info.get("little_endian", True):
        raise ValueError("big-endian checkpoints are not supported")
    storages: dict[str, tuple[str, int]] = {}
    obj = _LegacyUnpickler(f, storages).load()
    keys = _SmallUnpickler(f).load()
    raw: dict[str, np.ndarray] = {}
    for key in keys:
        storage_type, _ = storages[key]
        dtype = np.dtype(STORAGE_TYPES[storage_type]).newbyteorder("<")
        count = int(np.frombuffer(f.read(8), dtype="<i8")[0])
        raw[key] = np.frombuffer(f.read(count * dtype.itemsize), dtype=dtype)
    state = obj["model_state"] if isinstance(obj, dict) and "model_state" in obj else obj
    out: dict[str, np.ndarray] = {}
    for name, ref in state.items():
        if not isinstance(ref, _TensorRef):
            continue
        storage = raw[ref.key]
        itemsize = storage.dtype.itemsize
        out[name] = np.lib.stride_tricks.as_strided(
            storage[ref.offset :], shape=ref.size, strides=tuple(s * itemsize for s in ref.stride)).copy()
    return out


def read_source(path: Path) -> bytes:
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            return wheel.read("resemblyzer/pretrained.pt")
    return path.read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path, help="the Resemblyzer 0.1.4 wheel or its pretrained.pt")
    parser.add_argument("--out", type=Path, default=TARGET)
    parser.add_argument("--float32", action="store_true")
    args = parser.parse_args()
    if "torch" in sys.modules:
        raise SystemExit("torch must not be loaded")
    state = read_legacy_state(read_source(args.source))
    dtype = np.float32 if args.float32 else np.float16
    weights = {k: v.astype(dtype) for k, v in state.items() if k.startswith(KEEP_PREFIXES)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **weights)
    total = sum(v.size for v in weights.values())
    print(f"{len(weights)} arrays, {total:,} parameters, {args.out.stat().st_size / 1e6:.1f} MB -> {args.out}")


if __name__ == "__main__":
    main()
