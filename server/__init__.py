"""romagraph: a linked-data knowledge graph of Latvia's Roma-integration policy."""

__version__ = "0.1.0"
