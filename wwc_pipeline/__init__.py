"""wwc-pipeline: city open-data portals read as evidence for What Works Cities certification."""

__version__ = "0.1.0"
