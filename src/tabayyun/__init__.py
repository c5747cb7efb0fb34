"""tabayyun (تبيّن, "verify the news"): an Arabic-first claim-verification workbench.

The public verbs: `analyze` one page into a `Document`; a `Workspace` to ingest and read many.
"""

from tabayyun.model import Document, Evidence, Removed
from tabayyun.pipeline import analyze
from tabayyun.workspace import Workspace

__version__ = "0.1.0"
__all__ = ["Document", "Evidence", "Removed", "Workspace", "analyze", "__version__"]
