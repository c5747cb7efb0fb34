"""Connecting articles: near-duplicate copies (`duplicates`), syndication, stories (`stories`); timelines to come."""

from tabayyun.connect.duplicates import DuplicateFinder, duplicate_groups, shingles, signature
from tabayyun.connect.stories import StoryClusterer, get_story, list_stories

__all__ = ["DuplicateFinder", "StoryClusterer", "duplicate_groups", "get_story", "list_stories", "shingles",
           "signature"]
