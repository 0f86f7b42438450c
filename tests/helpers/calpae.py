"""The CALPAE's two blocs, as its profile defines them (the tests' shorthand)."""
from calpae_xl.core.profile import profile

CALPAE = profile("calpae")
SOCLE = CALPAE.group("socle")
INITIATIVES = CALPAE.group("initiatives")
