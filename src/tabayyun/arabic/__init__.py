"""Arabic text utilities shared by every stage: normalization with offsets, tokens and clitics, a light
stem for search, sentences."""

from tabayyun.arabic.normalize import fold_digits, normalize_for_match, normalize_with_offsets
from tabayyun.arabic.sentences import Sentence, split_sentences
from tabayyun.arabic.tokenize import Token, light_stem, split_clitics, stem_text, stem_variants, tokenize, words

__all__ = [
    "Sentence", "Token", "fold_digits", "light_stem", "normalize_for_match", "normalize_with_offsets",
    "split_clitics", "split_sentences", "stem_text", "stem_variants", "tokenize", "words",
]
