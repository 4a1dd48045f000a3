"""The bundled demo: agent scripts for four small competitions, their data, and the builder."""

from demo.builder import DemoPaths, build_demo, default_demo_dir, ensure_demo, is_built

__all__ = ["DemoPaths", "build_demo", "default_demo_dir", "ensure_demo", "is_built"]
