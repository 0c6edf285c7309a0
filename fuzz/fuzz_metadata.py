"""Coverage-guided fuzzing of the metadata reader: vidlab.metadata with the JPEG walker (vidlab.formats), the
IFD checks and MakerNote serials (vidlab.makernotes), exifread and Pillow's header readers underneath.

Run with `make fuzz` (it installs atheris into .venv; atheris is not a dependency of the toolkit), or by hand:

    .venv/bin/python fuzz/fuzz_metadata.py --write-seeds fuzz/corpus
    .venv/bin/python fuzz/fuzz_metadata.py fuzz/corpus -max_total_time=600 -timeout=5 -rss_limit_mb=2048

metadata_row never raises: it turns any exception into the row's ``error`` text. So a finding here is an
exception out of it anyway, an ``error`` that names a programming mistake rather than a damaged file
(IndexError, KeyError, TypeError … caught by the safety net), a row without its columns, or a call over the
time or memory limits (libFuzzer's -timeout and -rss_limit_mb). Each finding is saved by libFuzzer as
crash-<sha1> in the working folder (or -artifact_prefix); turn it into a regression test in
tests/test_malformed.py, fix the reader, and keep the file in the corpus.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# The seeds, the broken variants and the list of exception names that mean a reader bug are the malformed-input
# tests' own (tests/malformed.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def write_seeds(folder: Path) -> None:
    """Fill an empty corpus folder with the valid seeds and broken variants of tests/malformed.py."""
    import malformed

    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        return
    seeds = malformed.seeds()
    for kind, (name, data) in seeds.items():
        (folder / f"seed_{kind}_{name}").write_bytes(data)
    for n, broken in enumerate(malformed.broken_files(seeds, flips_per_seed=2)):
        if len(broken.data) < 64 << 10:  # the bombs and the like stay out: libFuzzer mutates small inputs best
            (folder / f"broken_{n:05d}").write_bytes(broken.data)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--write-seeds":
        write_seeds(Path(sys.argv[2]))
        return
    import atheris

    with atheris.instrument_imports():
        import exifread  # noqa: F401 - instrumented so its branches guide the fuzzer too

        from vidlab import evidence, formats, makernotes, metadata  # noqa: F401
    from malformed import BUGS  # after: it imports vidlab too, which must be instrumented first

    scratch = Path(tempfile.mkdtemp(prefix="vidlab-fuzz-"))
    path = scratch / "input.jpg"

    def one_input(data: bytes) -> None:
        path.write_bytes(data)
        row = metadata.metadata_row(path)
        if list(row) != list(metadata.METADATA_COLUMNS):
            raise AssertionError(f"row columns changed: {list(row)}")
        error = row["error"] or ""
        if BUGS.search(error):
            raise AssertionError(f"a reader bug surfaced as an error row: {error}")
        metadata.quantisation_tables(path)
        metadata.thumbnail_bytes(path)

    os.environ.setdefault("VIDLAB_PROFILE", "tiny")
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
