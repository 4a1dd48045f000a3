"""Widgets of the nodefix app."""
