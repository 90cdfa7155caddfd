# expect: FC255 at line 10
from metaflow import Config, FlowSpec, step


def ini_parser(text):
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


class CustomParserFlow(FlowSpec):
    cfg = Config("cfg", default_value="a=1", parser=ini_parser)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
