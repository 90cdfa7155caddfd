"""A flow importing a package beside it: a directory with __init__.py, submodules (one imported
by the package itself, relatively) and a data file the package reads."""
from metaflow import FlowSpec, step
from shapes import UNIT, area
from shapes.circle import circle_area


class PkgFlow(FlowSpec):
    @step
    def start(self):
        self.square = area(3)
        self.circle = round(circle_area(1.0), 2)
        self.unit = UNIT
        self.next(self.end)

    @step
    def end(self):
        from shapes.circle import read_note

        assert (self.square, self.circle, self.unit) == (9, 3.14, "m2")
        assert read_note() == "pi is about 3.14"
