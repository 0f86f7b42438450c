import os

# The xlwings remote engine (behind xlwings Server and Lite) needs a licence
# key before xlwings is imported; its PolyForm Noncommercial licence covers
# public bodies. The tests run it on Linux, without Excel.
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("calpae", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("calpae")

from calpae_xl.core import load_example


@pytest.fixture
def loiret():
    """The Loiret 2020 annex, figures as printed (with their slips)."""
    return load_example("loiret-2020")


def pytest_addoption(parser):
    parser.addoption("--mutants", type=int, default=1000,
                     help="nombre de classeurs mutés essayés par le fuzzer (défaut 1000 ; une campagne longue : 20000)")
    parser.addoption("--kills", type=int, default=50, help="nombre d'enregistrements interrompus (défaut 50)")
    parser.addoption("--sequences", type=int, default=12,
                     help="séquences de la boucle de l'agent (défaut 12 ; une campagne : 2000)")
    parser.addoption("--seed", type=int, default=0, help="première graine des séquences (défaut 0)")
