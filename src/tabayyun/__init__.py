"""tabayyun (تبيّن, "verify the news"): an Arabic-first claim-verification workbench.

The public verbs: `analyze` one page into a `Document`; a `Workspace` to ingest, read, search and
check claims; `stance(claim, document)` and `verify(claim, documents, as_of=None)` for documents at hand.
"""

from tabayyun.check import verify
from tabayyun.model import Document, Evidence, Removed
from tabayyun.pipeline import analyze
from tabayyun.stance import StanceResult, stance
from tabayyun.verdict import Verdict
from tabayyun.workspace import Workspace

__version__ = "0.1.0"
__all__ = ["Document", "Evidence", "Removed", "StanceResult", "Verdict", "Workspace", "analyze", "stance", "verify",
           "__version__"]
