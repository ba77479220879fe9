"""The analysis engine: decoding, fingerprints, keyframes, provenance, matching and the
verdict. Pure Python on images and bytes: it imports nothing from Django or the apps
(an import-linter contract in pyproject.toml checks it)."""
