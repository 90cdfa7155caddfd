"""A Config read from a JSON file beside the flow (resolved when the flow is compiled): in step
decorators by attribute and by item, spread into @environment, as a Parameter's default, and in
the steps as a read-only ConfigValue artifact. Expected: start asks for cpu 2 and 6144 MB, train
retries twice with a 600 s timeout."""
import os

from metaflow import Config, FlowSpec, Parameter, current, environment, resources, retry, step, timeout


class ConfigJsonFlow(FlowSpec):
    cfg = Config("cfg", default="config_json.json")
    rounds = Parameter("rounds", default=cfg.train.rounds)

    @resources(cpu=cfg.resources.cpu, memory=cfg["resources"]["memory"])
    @environment(vars={**cfg.env, "MODE": cfg.mode})
    @step
    def start(self):
        assert os.environ["GREETING"] == "hello from config", os.environ.get("GREETING")
        assert os.environ["MODE"] == "test"
        self.mode = self.cfg.mode
        self.next(self.train)

    @retry(times=cfg.train.retries)
    @timeout(seconds=cfg.train["timeout_seconds"])
    @step
    def train(self):
        self.score = self.cfg.train.rounds * 10
        self.next(self.end)

    @step
    def end(self):
        assert self.rounds == 3
        assert self.cfg.resources.cpu == 2 and self.cfg["resources"]["memory"] == 6144
        assert self.cfg.env == {"GREETING": "hello from config"}
        assert self.mode == "test" and self.score == 30
        assert current.flow_name == "ConfigJsonFlow"
        try:
            self.cfg.train["rounds"] = 4
        except TypeError:
            pass
        else:
            raise AssertionError("a config value must be read-only")


if __name__ == "__main__":
    ConfigJsonFlow()
