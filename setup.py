"""Package layout only (metadata is in pyproject.toml).

The detector catalogue sits at the top-level `rules/`, written in the same format users write
their own detectors in; it is installed as `kvlint.catalogue`, so wheel and editable installs
load it the same way (importlib.resources).
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["kvlint", "kvlint.*"]), "kvlint.catalogue"],
    package_dir={"kvlint.catalogue": "rules"},
)
