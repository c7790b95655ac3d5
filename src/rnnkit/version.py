"""The rnnkit version: a module of its own at the bottom of the import graph, so that the
checkpoint writer, the model-directory reader, the service and the CLI record it without
importing the package root."""

__version__ = "0.1.0"
