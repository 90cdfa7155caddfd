"""Configs in flow-level decorators (through config_expr, since the class attribute does not exist
yet there), a config spread into @resources, and config_expr arithmetic. Expected: project
cfgdemo, a daily schedule at 06:00, start asks for cpu 1 and 5120 MB, end for cpu 2 and 6144 MB."""
from metaflow import Config, FlowSpec, config_expr, current, project, resources, schedule, step


@project(name=config_expr("deploy").project)
@schedule(cron=config_expr("deploy.schedule"))
class ConfigProjectFlow(FlowSpec):
    deploy = Config("deploy", default="config_project.json")
    limits = Config("limits", default_value={"cpu": 1, "memory": 5120})

    @resources(**limits)
    @step
    def start(self):
        self.next(self.end)

    @resources(cpu=config_expr("limits.cpu * 2"), memory=config_expr("limits['memory'] + deploy.extra_memory"))
    @step
    def end(self):
        assert current.project_name == "cfgdemo", current.project_name
        assert self.deploy.project == "cfgdemo" and self.deploy.schedule == "0 6 * * *"
        assert self.limits == {"cpu": 1, "memory": 5120} and self.limits.memory == 5120


if __name__ == "__main__":
    ConfigProjectFlow()
