"""Use cases: each one a unit of work over the core, the stores and the renderer."""
