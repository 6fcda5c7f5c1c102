"""Document.name and .suffix are taken from the path string (one PurePosixPath per scanned file
was a measurable share of a large scan): they must say what PurePosixPath says."""

from __future__ import annotations

import itertools
from pathlib import PurePosixPath

from kvlint.document import Document


def test_name_and_suffix_are_those_of_pure_posix_path() -> None:
    parts = ["", ".", "..", "a", ".env", "x.py", "X.PY", "a.b.c", "a.", ".a.", "...", "tar.gz", "é.Yaml", " .md"]
    paths = {"/".join(combo) for n in (1, 2, 3) for combo in itertools.product(parts, repeat=n)}
    paths |= {p + "/" for p in list(paths)} | {"/" + p for p in list(paths)} | {"a//b.py", "./x.tf", "/"}
    for path in sorted(paths):
        doc = Document(path, "")
        expected = PurePosixPath(path)
        assert (doc.name, doc.suffix) == (expected.name, expected.suffix.lower()), path
