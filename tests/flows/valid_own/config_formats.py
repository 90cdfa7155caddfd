"""Configs in TOML (parser given as a string and as the function) and YAML, and a default_value
parsed by its parser; all resolved when the flow is compiled and shipped to the tasks as JSON
(no TOML or YAML parser runs in a task). Expected: start asks for cpu 3 and 8192 MB."""
import tomllib

from metaflow import Config, FlowSpec, environment, resources, step


class ConfigFormatsFlow(FlowSpec):
    settings = Config("settings", default="config_formats.toml", parser="tomllib.loads")
    same = Config("same", default="config_formats.toml", parser=tomllib.loads)
    sizes = Config("sizes", default="config_formats.yaml", parser="yaml.safe_load")
    inline = Config("inline", default_value='name = "inline"', parser="tomllib.loads")

    @resources(cpu=settings.compute.cpu, memory=sizes.compute.memory)
    @environment(vars={"TITLE": settings.title, "FIRST_LABEL": sizes.labels[0]})
    @step
    def start(self):
        import os

        assert os.environ["TITLE"] == "from toml" and os.environ["FIRST_LABEL"] == "a"
        self.next(self.end)

    @step
    def end(self):
        assert self.settings == self.same
        assert self.settings.title == "from toml" and self.settings.compute.cpu == 3
        assert self.settings.released == "2024-01-02"          # TOML dates travel as ISO text
        assert self.sizes.compute.memory == 8192 and self.sizes.labels == ["a", "b"]
        assert self.inline.name == "inline"


if __name__ == "__main__":
    ConfigFormatsFlow()
