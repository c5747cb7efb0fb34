"""Article cleaning: flattened-text segmentation, HTML extraction, metadata with evidence."""

from tabayyun.clean.flat import Segmentation, segment
from tabayyun.clean.html import HtmlExtraction, extract_html

__all__ = ["HtmlExtraction", "Segmentation", "extract_html", "segment"]
