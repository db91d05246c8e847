"""Quality: encoder, single-turn and dialogue (replay) evaluation, their metrics, the published
protocols (published/) and the rewriters' request lists (lists/). Speed lives in bench/."""
