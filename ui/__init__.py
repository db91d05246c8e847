"""The command line and the Gradio chat app."""
