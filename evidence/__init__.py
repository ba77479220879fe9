"""The merchant's evidence library: product photos, packing videos, fingerprints."""
