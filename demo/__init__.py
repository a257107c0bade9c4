"""Gradio demo: hear, protect and compare unlearnable audio (see demo/README.md)."""
