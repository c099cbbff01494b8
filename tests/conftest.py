"""Shared fixtures."""
import pytest


@pytest.fixture
def gradebook_url(tmp_path):
    return f"sqlite:///{tmp_path / 'gradebook.db'}"
