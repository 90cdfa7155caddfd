# expect: FC001 at line 6
from metaflow import FlowSpec, step


class X(FlowSpec):
    x = (1,
