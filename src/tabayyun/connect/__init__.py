"""Connecting articles: near-duplicate copies (`duplicates`); syndication, stories and timelines to come."""

from tabayyun.connect.duplicates import DuplicateFinder, duplicate_groups, shingles, signature

__all__ = ["DuplicateFinder", "duplicate_groups", "shingles", "signature"]
