"""The pricing-rule tests' hand-built landing folder, one per test."""
import pytest

from finance.scenario import Scenario


@pytest.fixture
def s(landing, warehouse) -> Scenario:
    return Scenario(landing, warehouse)
