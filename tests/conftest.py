"""Test-wide settings: token counts use the documented estimate unless a test asks otherwise,
so exact figures do not depend on whether the embedded model's tokenizer is installed."""

import os

os.environ["RTSIM_TOKENIZER"] = "estimate"
