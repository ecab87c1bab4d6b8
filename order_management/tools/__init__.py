from . import fingerprint
