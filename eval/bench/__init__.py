"""Speed: `circhat bench` (suite.py) and its parts, each a turn or a build timed beside the
bare operation it wraps (timing.py's one paired timer). Quality lives in eval/ itself."""
