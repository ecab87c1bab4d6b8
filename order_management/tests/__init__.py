from . import test_confirmation_gate
from . import test_demo_lifecycle
from . import test_fingerprint
from . import test_lifecycle
from . import test_order_files
from . import test_order_importer
from . import test_review_flow
from . import test_roles
