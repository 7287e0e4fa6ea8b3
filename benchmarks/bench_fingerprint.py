"""What a content fingerprint costs: MB/s of the streamed SHA-256 (:func:`lifting.files.sha256_file`, 1 MiB blocks)
that resumable runs take of every input file (evaluate-images: the dataset's manifest and shards, the weights, the
prototxt and the model; h36m-prepare: each sequence's source files), against the simple reference of reading the
same file in the same 1 MiB blocks without hashing, in the same process (page cache warm for both).

    python benchmarks/bench_fingerprint.py [--mb 200]
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import best_time, machine  # noqa: E402

from lifting.files import sha256_file  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=200, help="size of the file hashed (MB, default 200)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "input.bin")
        with open(path, "wb") as f:
            for _ in range(args.mb):
                f.write(os.urandom(1 << 20))

        def read():
            with open(path, "rb") as f:
                while f.read(1 << 20):
                    pass

        read()  # the page cache warm for both
        t_read = best_time(read)
        t_hash = best_time(lambda: sha256_file(path))
    mb = args.mb * (1 << 20) / 1e6
    print(f"machine: {machine()}")
    print(f"file: {mb:.0f} MB, block 1 MiB (batch: one file), best of 3")
    print(f"reference, streamed read: {t_read:.3f} s ({mb / t_read:,.0f} MB/s)")
    print(f"streamed SHA-256 (sha256_file): {t_hash:.3f} s ({mb / t_hash:,.0f} MB/s)")
    print(f"ratio SHA-256 / read: {t_hash / t_read:.1f}x; a 5 GB dataset costs about {5000 / (mb / t_hash):.0f} s "
          "per evaluate-images start")


if __name__ == "__main__":
    main()
