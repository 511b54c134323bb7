#!/usr/bin/env python3
"""Write the bytes of every golden vector message into a libFuzzer seed corpus directory.

Also reads the per-fuzzer seed folders tests/fuzz/seeds/NAME (same format), which .ci/run
uses for fuzz_NAME instead of the vectors.

Usage: make_corpus.py VECTORS_DIR CORPUS_DIR

Reads every VECTORS_DIR/**/*.txt in the vector format (tests/vectors/README.md, "Record
format"): records start with a line "[message]", lines starting with "#" are comments, and after
a line "hex:" come lines of space-separated hex byte pairs up to a blank line or the next record.
Each message is written to CORPUS_DIR/<sha1 of its bytes> (identical messages collapse into one
file, as libFuzzer names corpus files).
"""
import hashlib
import pathlib
import sys


def messages(path):
    current = None  # bytearray while inside a hex block
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.rstrip()
        if line == "[message]" or (current is not None and line == ""):
            if current is not None:
                yield bytes(current)
            current = None
            continue
        if line.startswith("#"):
            continue
        if line == "hex:":
            current = bytearray()
        elif current is not None:
            try:
                current.extend(bytes.fromhex(line))
            except ValueError as e:
                sys.exit(f"{path}:{lineno}: malformed hex: {e}")
    if current is not None:
        yield bytes(current)


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    vectors, corpus = pathlib.Path(argv[1]), pathlib.Path(argv[2])
    files = sorted(vectors.rglob("*.txt"))
    if not files:
        sys.exit(f"no *.txt files under {vectors}")
    corpus.mkdir(parents=True, exist_ok=True)
    total = 0
    written = set()
    for f in files:
        for msg in messages(f):
            total += 1
            name = hashlib.sha1(msg).hexdigest()
            if name not in written:
                (corpus / name).write_bytes(msg)
                written.add(name)
    print(f"make_corpus: {total} messages from {len(files)} files -> "
          f"{len(written)} distinct inputs in {corpus}")


if __name__ == "__main__":
    main(sys.argv)
