"""Arabic text utilities shared by every stage."""

from tabayyun.arabic.normalize import fold_digits, normalize_for_match

__all__ = ["fold_digits", "normalize_for_match"]
