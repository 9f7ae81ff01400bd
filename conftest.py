"""Root pytest set-up shared by every test."""

import os

# Qt with neither a display nor the offscreen platform aborts the whole pytest process; real-window
# tests run under xvfb-run explicitly and set their own platform.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("QT_QUICK_BACKEND", "software")
