"""The exported tiny classifier of tests/export, shared with the service tests."""

from tests.export.conftest import exported_dir  # noqa: F401  (a fixture)
