"""Demo data: the 29 signatories of the 2022 campaign (a copy of the reference list)."""
from importlib.resources import files
from pathlib import Path

SIGNATORIES_CSV = Path(str(files(__name__) / "signatories-2022.csv"))
