import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# tests/ helpers (sarif_tools, armstandin) import as top-level modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))
