"""Screens of the nodefix app."""
