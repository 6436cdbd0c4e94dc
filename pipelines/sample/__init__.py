"""Deterministic sample corpus of departmental returns (`python -m pipelines.sample --out data/raw`)."""

from pipelines.sample.generate import DEFAULT_SEED, Corpus, WriteReport, build_corpus, write_corpus

__all__ = ["DEFAULT_SEED", "Corpus", "WriteReport", "build_corpus", "write_corpus"]
