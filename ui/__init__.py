"""The command line and the Gradio chat app."""

CONCURRENCY = 4  # turns the app serves at once: `circhat app --concurrency`'s default, the Space's
