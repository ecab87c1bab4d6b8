from . import portal
from . import session
