import sys
from pathlib import Path

# Helpers next to this file have names of their own, so they cannot clash with other test folders.
sys.path.insert(0, str(Path(__file__).parent))
