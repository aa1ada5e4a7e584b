"""Writes an .npz of separable blobs as np.savez writes it, for nos_train_numpy_test.cpp.

Usage: write_npz.py OUT.npz [compressed]. With NumPy installed it calls np.savez (or
np.savez_compressed) itself; without it, zipfile with force_zip64 (the layout np.savez uses)
around .npy bytes in NumPy's format. Prints which of the two wrote the file.
x: float32 (240, 6), y: int64 (240,), x_val: float32 (60, 6), y_val: int64 (60,).
"""
import random
import struct
import sys
import zipfile


def blobs(rows, rng):
    x, y = [], []
    for r in range(rows):
        label = r % 3
        y.append(label)
        x.append([(3.0 if f % 3 == label else 0.0) + rng.gauss(0, 0.5) for f in range(6)])
    return x, y


def npy(descr, shape, payload):
    dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, dims)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + payload


def main():
    out, compressed = sys.argv[1], len(sys.argv) > 2 and sys.argv[2] == "compressed"
    rng = random.Random(3)
    (x, y), (x_val, y_val) = blobs(240, rng), blobs(60, rng)
    try:
        import numpy as np
    except ImportError:
        np = None
    if np is not None:
        save = np.savez_compressed if compressed else np.savez
        save(out, x=np.array(x, dtype=np.float32), y=np.array(y, dtype=np.int64),
             x_val=np.array(x_val, dtype=np.float32), y_val=np.array(y_val, dtype=np.int64))
        print("numpy")
        return
    method = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(out, "w", compression=method, allowZip64=True) as archive:
        for name, rows, labels in (("x", x, y), ("x_val", x_val, y_val)):
            flat = [v for row in rows for v in row]
            arrays = {name: npy("<f4", (len(rows), 6), struct.pack("<%df" % len(flat), *flat)),
                      name.replace("x", "y"): npy("<i8", (len(labels),), struct.pack("<%dq" % len(labels), *labels))}
            for key, data in arrays.items():
                with archive.open(key + ".npy", "w", force_zip64=True) as entry:
                    entry.write(data)
    print("zipfile")


if __name__ == "__main__":
    main()
