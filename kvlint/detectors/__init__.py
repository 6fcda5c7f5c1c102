"""The declarative secret detector catalogue (`rules/*.toml`) and the scanner that runs it.

    from kvlint.detectors import load_catalogue
    catalogue = load_catalogue(extra_files=[Path("acme.toml")])
    for match in catalogue.scan(text, path="app/settings.py"):
        ...  # match.secret is the raw value: hash or mask it, never print it
"""

from kvlint.detectors.examples import EXPECT_MARKER, strip_expect_markers
from kvlint.detectors.loader import builtin_catalogue_dir, builtin_catalogue_files, load_detectors
from kvlint.detectors.model import (
    CATEGORIES,
    CONFIDENCES,
    SEVERITIES,
    Detector,
    DetectorError,
    Example,
    Match,
)
from kvlint.detectors.scanner import Catalogue, load_catalogue

__all__ = [
    "CATEGORIES",
    "CONFIDENCES",
    "EXPECT_MARKER",
    "SEVERITIES",
    "Catalogue",
    "Detector",
    "DetectorError",
    "Example",
    "Match",
    "builtin_catalogue_dir",
    "builtin_catalogue_files",
    "load_catalogue",
    "load_detectors",
    "strip_expect_markers",
]
