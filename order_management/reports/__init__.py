# In the order their views depend on each other: each init creates its view.
from . import order_review_report
from . import order_cycle_report
from . import order_scorecard_mixin
from . import order_scorecard_clerk
from . import order_scorecard_reviewer
from . import order_scorecard_logistics
from . import order_scorecard_snapshot
from . import order_scorecard_snapshot_line
from . import order_review_record
