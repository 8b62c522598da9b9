"""The media service: safe uploads, reports, the material package (built on the foundation)."""
