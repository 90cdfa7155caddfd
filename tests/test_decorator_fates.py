"""The fate table (compiler.decorators.FATES): every Metaflow decorator and argument is honoured,
warned or refused on each target, and these tests exercise each row."""
from __future__ import annotations

import json
import os
import textwrap

import pytest
import yaml

from compiler import decorators as D
from compiler.diagnostics.codes import get
from compiler.pipeline import compile_file
from compiler.settings import resolve
from compiler.targets import load_all_codes

load_all_codes()

ROWS = [(deco, arg, f) for deco, table in sorted(D.FATES.items())
        for arg, f in sorted(table.items(), key=lambda kv: kv[0] or "")]

# A value each argument accepts (lint's validators), for rows exercised through lint.
SAMPLE = {"packages": {"a": "1"}, "libraries": {"a": "1"}, "python": "3.11", "disabled": False,
          "type": "blank", "options": {}, "scope": "task", "rank": None, "timeout": 45, "id": "c1",
          "save_errors": True, "customize": False, "refresh_interval": 5, "port": 8080,
          "compute_pool": "pool", "executable": "python3", "hostname_resolution_timeout": 600,
          "tmpfs_tempdir": True, "allow_override": True, "sources": ["s"], "disk": 20000}


def _settings(**kw):
    flags = {"datastore": "s3://b/p", "batch_queue": "q", "branch": "t", "eks_cluster": "c", **kw}
    return resolve({k: v for k, v in flags.items() if v is not None}, flow_dir="/", environ={})


def _flow(tmp_path, step_decos="", flow_decos="", imports="kubernetes, batch"):
    src = textwrap.dedent(f"""\
        from metaflow import FlowSpec, step, {imports}
        {flow_decos}
        class F(FlowSpec):
            {step_decos}
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """)
    path = tmp_path / "f.py"
    path.write_text(src)
    return str(path)


# THE table, written out: every decorator and argument of Metaflow's documented API, its fate on
# Argo, Step Functions and `flowc run` (H honoured, W warned, R refused, - inert: no meaning there,
# as in Metaflow) and the codes reported. compiler/decorators.py FATES must say the same.
EXPECTED = """
    airflow_external_task_sensor                 W W W  FC219
    airflow_external_task_sensor.allowed_states  W W W  FC219
    airflow_external_task_sensor.check_existence W W W  FC219
    airflow_external_task_sensor.description     W W W  FC219
    airflow_external_task_sensor.execution_delta W W W  FC219
    airflow_external_task_sensor.exponential_backoff W W W  FC219
    airflow_external_task_sensor.external_dag_id W W W  FC219
    airflow_external_task_sensor.external_task_ids W W W  FC219
    airflow_external_task_sensor.failed_states   W W W  FC219
    airflow_external_task_sensor.mode            W W W  FC219
    airflow_external_task_sensor.name            W W W  FC219
    airflow_external_task_sensor.poke_interval   W W W  FC219
    airflow_external_task_sensor.pool            W W W  FC219
    airflow_external_task_sensor.soft_fail       W W W  FC219
    airflow_external_task_sensor.timeout         W W W  FC219
    batch                                        H H H
    batch.aws_batch_tags                         H H H
    batch.cpu                                    H H H
    batch.disk                                   W W W  FC219
    batch.efa                                    H H H
    batch.efs_volumes                            H H H
    batch.ephemeral_storage                      H H H
    batch.executable                             W W W  FC219
    batch.execution_role                         H H H
    batch.gpu                                    H H H
    batch.host_volumes                           H H H
    batch.iam_role                               H H H
    batch.image                                  H H H
    batch.inferentia                             H H H
    batch.log_driver                             H H H
    batch.log_options                            H H H
    batch.max_swap                               H H H
    batch.memory                                 H H H
    batch.privileged                             H H H
    batch.queue                                  H H H
    batch.shared_memory                          H H H
    batch.swappiness                             H H H
    batch.tmpfs_path                             H H H
    batch.tmpfs_size                             H H H
    batch.tmpfs_tempdir                          W W W  FC219
    batch.trainium                               H H H
    batch.use_tmpfs                              H H H
    card                                         W W W  FC218
    card.customize                               W W W  FC218
    card.id                                      W W W  FC218
    card.options                                 W W W  FC218
    card.rank                                    W W W  FC218
    card.refresh_interval                        W W W  FC218
    card.save_errors                             W W W  FC218
    card.scope                                   W W W  FC218
    card.timeout                                 W W W  FC218
    card.type                                    W W W  FC218
    catch                                        H H H
    catch.print_exception                        H H H
    catch.var                                    H H H
    conda                                        W W W  FC217
    conda.disabled                               W W W  FC217
    conda.libraries                              W W W  FC217
    conda.packages                               W W W  FC217
    conda.python                                 W W W  FC217
    conda_base                                   W W W  FC217
    conda_base.disabled                          W W W  FC217
    conda_base.libraries                         W W W  FC217
    conda_base.packages                          W W W  FC217
    conda_base.python                            W W W  FC217
    environment                                  H H H
    environment.vars                             H H H
    exit_hook                                    H H H
    exit_hook.on_error                           H H H
    exit_hook.on_success                         H H H
    exit_hook.options                            W W W  FC219
    kubernetes                                   H H H
    kubernetes.annotations                       H H H
    kubernetes.compute_pool                      W W W  FC219
    kubernetes.cpu                               H H H
    kubernetes.disk                              H H H
    kubernetes.executable                        W W W  FC219
    kubernetes.extended_resources                H H H
    kubernetes.gpu                               H H H
    kubernetes.gpu_vendor                        H H H
    kubernetes.hostname_resolution_timeout       W W W  FC219
    kubernetes.image                             H H H
    kubernetes.image_pull_policy                 H H H
    kubernetes.image_pull_secrets                H H H
    kubernetes.labels                            H H H
    kubernetes.memory                            H H H
    kubernetes.namespace                         W H H  FC304
    kubernetes.node_selector                     H H H
    kubernetes.persistent_volume_claims          H H H
    kubernetes.port                              W W W  FC219
    kubernetes.qos                               H H H
    kubernetes.secrets                           H H H
    kubernetes.security_context                  H H H
    kubernetes.service_account                   H H H
    kubernetes.shared_memory                     H H H
    kubernetes.tmpfs_path                        H H H
    kubernetes.tmpfs_size                        H H H
    kubernetes.tmpfs_tempdir                     W W W  FC219
    kubernetes.tolerations                       H H H
    kubernetes.use_tmpfs                         H H H
    parallel                                     W R H  FC312 FC413
    project                                      H H H
    project.branch                               H H H
    project.name                                 H H H
    project.production                           H H H
    pypi                                         W W W  FC217
    pypi.disabled                                W W W  FC217
    pypi.packages                                W W W  FC217
    pypi.python                                  W W W  FC217
    pypi_base                                    W W W  FC217
    pypi_base.disabled                           W W W  FC217
    pypi_base.packages                           W W W  FC217
    pypi_base.python                             W W W  FC217
    resources                                    H H H
    resources.cpu                                H H H
    resources.disk                               H H H
    resources.gpu                                H H H
    resources.memory                             H H H
    resources.shared_memory                      H H H
    retry                                        H H H
    retry.minutes_between_retries                H H H
    retry.times                                  H H H
    schedule                                     H H -
    schedule.cron                                H H -
    schedule.daily                               H H -
    schedule.hourly                              H H -
    schedule.timezone                            H H -
    schedule.weekly                              H H -
    secrets                                      H H H
    secrets.allow_override                       W W W  FC219
    secrets.role                                 H H H
    secrets.sources                              H H H
    timeout                                      H H H
    timeout.hours                                H H H
    timeout.minutes                              H H H
    timeout.seconds                              H H H
    trigger                                      W W -  FC311 FC409
    trigger.event                                W W -  FC311 FC409
    trigger.events                               W W -  FC311 FC409
    trigger.options                              W W -  FC311 FC409
    trigger_on_finish                            W W -  FC311 FC409
    trigger_on_finish.flow                       W W -  FC311 FC409
    trigger_on_finish.flows                      W W -  FC311 FC409
    trigger_on_finish.options                    W W -  FC311 FC409
    unbounded_test_foreach_internal              W W W  FC219

"""


def _row_text(deco, arg, f):
    ab = {D.HONOURED: "H", D.WARNED: "W", D.REFUSED: "R", D.INERT: "-"}
    name = deco if arg is None else f"{deco}.{arg}"
    codes = " ".join(sorted({c for t in D.TARGETS if (c := f.code_on(t))}))
    return f"{name} {ab[f.argo]} {ab[f.stepfunctions]} {ab[f.run]} {codes}".strip()


def test_the_fate_table_is_the_expected_one():
    expected = [" ".join(line.split()) for line in EXPECTED.strip().splitlines()]
    assert [_row_text(d, a, f) for d, a, f in ROWS] == expected


def test_every_row_has_a_fate_per_target_and_a_documented_code():
    for deco, arg, f in ROWS:
        for target in D.TARGETS:
            assert f.on(target) in (D.HONOURED, D.WARNED, D.REFUSED, D.INERT), (deco, arg, target)
            code = f.code_on(target)
            if f.on(target) in (D.WARNED, D.REFUSED):
                assert code and get(code) is not None, (deco, arg, target)


def test_the_table_lists_every_documented_decorator():
    documented = {"resources", "kubernetes", "batch", "retry", "catch", "timeout", "environment",
                  "secrets", "card", "pypi", "conda", "parallel", "schedule", "project", "pypi_base",
                  "conda_base", "trigger", "trigger_on_finish", "exit_hook", "airflow_external_task_sensor"}
    assert documented <= set(D.FATES)
    for deco, table in D.FATES.items():
        spec = D.STEP_DECORATORS.get(deco, D.FLOW_DECORATORS.get(deco))
        assert set(table) == {None, *spec}, deco


WARNED_EVERYWHERE = [(d, a, f) for d, a, f in ROWS if f.everywhere == D.WARNED and a is not None
                     and d not in ("airflow_external_task_sensor",) and D.fate(d).everywhere != D.WARNED]
WHOLE_WARNED = [(d, f) for d, a, f in ROWS if a is None and f.everywhere == D.WARNED]


@pytest.mark.parametrize("deco,arg,fate", WARNED_EVERYWHERE, ids=[f"{d}.{a}" for d, a, _ in WARNED_EVERYWHERE])
def test_an_argument_no_target_applies_is_warned(tmp_path, deco, arg, fate):
    imports = f"kubernetes, batch, {deco}" if deco not in ("kubernetes", "batch") else "kubernetes, batch"
    if deco in D.FLOW_DECORATORS:      # @exit_hook(options=...): with a hook
        path = _flow(tmp_path, flow_decos=f"@{deco}(on_success=['hooks.f'], {arg}={SAMPLE[arg]!r})",
                     imports=imports)
    else:
        path = _flow(tmp_path, step_decos=f"@{deco}({arg}={SAMPLE[arg]!r})\n    ", imports=imports)
    for target in ("argo", "stepfunctions"):
        result = compile_file(path, target, settings=_settings())
        codes = [d.code for d in result.diagnostics]
        assert fate.code in codes, (target, codes)
        assert result.ok


@pytest.mark.parametrize("deco,fate", WHOLE_WARNED, ids=[d for d, _ in WHOLE_WARNED])
def test_a_decorator_no_target_applies_is_warned(tmp_path, deco, fate):
    is_flow = deco in D.FLOW_DECORATORS
    text = f"@{deco}(packages={{'a': '1'}})" if deco in ("pypi", "conda", "pypi_base", "conda_base") else f"@{deco}"
    path = _flow(tmp_path, step_decos="" if is_flow else text + "\n    ", flow_decos=text if is_flow else "",
                 imports=f"kubernetes, batch, {deco}")
    for target in ("argo", "stepfunctions"):
        result = compile_file(path, target, settings=_settings())
        assert fate.code in [d.code for d in result.diagnostics], target
        assert result.ok


def test_parallel_is_refused_on_step_functions_and_warned_on_argo():
    path = os.path.join(os.path.dirname(__file__), "flows", "valid_own", "parallel_flow.py")
    sfn = compile_file(path, "stepfunctions", settings=_settings())
    assert not sfn.ok and "FC413" in [d.code for d in sfn.diagnostics]
    argo = compile_file(path, "argo", settings=_settings())
    assert argo.ok and "FC312" in [d.code for d in argo.diagnostics]


def _argo_pod(path):
    result = compile_file(path, "argo", settings=_settings())
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    wt = next(yaml.safe_load(f.content) for f in result.files if b"WorkflowTemplate" in f.content)
    return next(t for t in wt["spec"]["templates"] if t["name"] == "start")


def test_kubernetes_pull_secrets_qos_security_context_reach_argo_and_eks(tmp_path):
    path = _flow(tmp_path, step_decos='@kubernetes(cpu=2, memory=8192, image_pull_secrets=["regcred"], '
                 'qos="Guaranteed", extended_resources={"vpc.amazonaws.com/efa": 1}, '
                 'security_context={"run_as_user": 1000})\n    ')
    pod = _argo_pod(path)
    wt = next(d for d in _argo_docs(path) if d["kind"] == "WorkflowTemplate")
    assert wt["spec"]["imagePullSecrets"] == [{"name": "regcred"}]      # Argo: the workflow's
    res = pod["container"]["resources"]
    assert res["limits"]["cpu"] == res["requests"]["cpu"] == "2"
    assert res["limits"]["memory"] == res["requests"]["memory"] == "8192Mi"
    assert res["limits"]["vpc.amazonaws.com/efa"] == "1"
    assert pod["container"]["securityContext"] == {"runAsUser": 1000}
    sfn = compile_file(path, "stepfunctions", settings=_settings())
    text = b"".join(f.content for f in sfn.files)
    assert b"regcred" in text and b"runAsUser" in text


def _jobdefs(path):
    result = compile_file(path, "stepfunctions", settings=_settings())
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    return result, [json.loads(f.content) for f in result.files if f.name.endswith(".jobdef.json")]


def test_batch_options_reach_the_job_definition_and_submit(tmp_path):
    from tests.stepfunctions.helpers import validate_request

    path = _flow(tmp_path, step_decos='@batch(efs_volumes=["fs-12345678:/mnt/data"], inferentia=2, '
                 'aws_batch_tags={"team": "ml"}, host_volumes="/scratch", log_driver="awslogs", '
                 'log_options=["awslogs-group:g"])\n    ')
    result, defs = _jobdefs(path)
    jd = next(d for d in defs if "volumes" in d["containerProperties"])
    validate_request("batch", "RegisterJobDefinition", jd)
    props = jd["containerProperties"]
    assert {"name": "efs_fs-12345678", "efsVolumeConfiguration": {"fileSystemId": "fs-12345678",
                                                                   "transitEncryption": "ENABLED"}} in props["volumes"]
    assert {"sourceVolume": "efs_fs-12345678", "containerPath": "/mnt/data"} in props["mountPoints"]
    assert [d["hostPath"] for d in props["linuxParameters"]["devices"]] == ["/dev/neuron0", "/dev/neuron1"]
    assert jd["tags"] == {"team": "ml", "flowc:flow": "F"}
    assert props["logConfiguration"] == {"logDriver": "awslogs", "options": {"awslogs-group": "g"}}
    asl = json.loads(next(f for f in result.files if f.name.endswith(".asl.json")).content)
    assert asl["States"]["start"]["Parameters"]["Tags"] == {"team": "ml"}
    # Argo @batch steps register the same definition through batch-submit
    pod = _argo_pod(path)
    args = pod["container"]["args"]
    compiled = json.loads(args[args.index("--job-definition") + 1])
    validate_request("batch", "RegisterJobDefinition", compiled)
    for key in ("volumes", "mountPoints", "linuxParameters", "logConfiguration"):
        assert compiled["containerProperties"][key] == props[key]
    assert compiled["tags"] == jd["tags"]


def test_ephemeral_storage_makes_a_fargate_definition(tmp_path):
    from tests.stepfunctions.helpers import validate_request

    path = _flow(tmp_path, step_decos='@batch(ephemeral_storage=50, execution_role="arn:aws:iam::1:role/x")\n    ')
    _, defs = _jobdefs(path)
    jd = next(d for d in defs if "ephemeralStorage" in d["containerProperties"])
    validate_request("batch", "RegisterJobDefinition", jd)
    assert jd["platformCapabilities"] == ["FARGATE"]
    assert jd["containerProperties"]["ephemeralStorage"] == {"sizeInGiB": 50}


@pytest.mark.parametrize("text,code", [
    ("@resources(gpu=1.5)", "FC214"), ("@resources(cpu=1e400)", "FC214"), ("@timeout(minutes=1e308)", "FC214"),
    ("@batch(ephemeral_storage=10)", "FC202"), ("@batch(ephemeral_storage=50, use_tmpfs=True)", "FC221"),
    ('@kubernetes(qos="BestEffort")', "FC202"), ("@kubernetes(memroy=1)", "FC203"),
])
def test_bad_values_are_diagnostics(tmp_path, text, code):
    path = _flow(tmp_path, step_decos=text + "\n    ", imports="kubernetes, batch, resources, timeout")
    result = compile_file(path, "argo", settings=_settings())
    assert code in [d.code for d in result.diagnostics]
    assert not result.ok


def test_with_option_overflow_is_a_diagnostic(tmp_path):
    from compiler.lower import with_diagnostics

    _, diags = with_diagnostics(["kubernetes:cpu=1e400", "timeout:minutes=1e308"])
    assert [d.code for d in diags] == ["FC501", "FC501"]


def test_project_name_is_metaflows_rule(tmp_path):
    path = _flow(tmp_path, flow_decos='@project(name="../../etc/passwd")', imports="project")
    result = compile_file(path, "argo", settings=_settings())
    assert [d.code for d in result.diagnostics if d.is_error] == ["FC215"]


def test_parameter_keyword_typo_is_refused_with_a_suggestion(tmp_path):
    path = tmp_path / "p.py"
    path.write_text('from metaflow import FlowSpec, Parameter, step\nclass P(FlowSpec):\n'
                    '    alpha = Parameter("alpha", defualt=0.5)\n    @step\n    def start(self):\n'
                    '        self.next(self.end)\n    @step\n    def end(self):\n        pass\n')
    result = compile_file(str(path), "argo", settings=_settings())
    fc216 = [d for d in result.diagnostics if d.code == "FC216"]
    assert fc216 and "did you mean `default`?" in fc216[0].message and fc216[0].span.line == 3


def test_exit_hook_with_a_module_level_def_compiles_on_both_targets():
    path = os.path.join(os.path.dirname(__file__), "flows", "deco", "exit_hook_flow.py")
    for target in ("argo", "stepfunctions"):
        result = compile_file(path, target, settings=_settings())
        assert result.ok, [(d.code, d.message) for d in result.diagnostics]
        assert not [d for d in result.diagnostics if d.code == "FC201"]


# Honoured rows: the decorator with the argument compiles to other documents than without it (on
# Argo and Step Functions), and to another plan (what flowc run reads). (decorator text with the
# argument, the same without it); flow decorators start with "flow:".
K, B = "@kubernetes(", "@batch("
HONOURED_SAMPLES = {
    ("resources", None): ("@resources(cpu=3)", ""),
    **{("resources", a): (f"@resources({a}={v})", "@resources()") for a, v in
       (("cpu", 3), ("memory", 9000), ("disk", 20000), ("gpu", 1), ("shared_memory", 512))},
    ("kubernetes", None): ("@kubernetes()", ""),
    **{("kubernetes", a): (f"{K}{a}={v!r})", "@kubernetes()") for a, v in (
        ("cpu", 3), ("memory", 9000), ("disk", 20000), ("gpu", 1), ("shared_memory", 512),
        ("image", "python:3.12"), ("image_pull_policy", "Always"), ("image_pull_secrets", ["regcred"]),
        ("service_account", "sa"), ("secrets", ["s1"]), ("node_selector", {"a": "b"}),
        ("tolerations", [{"key": "k", "operator": "Exists"}]), ("labels", {"team": "ml"}),
        ("annotations", {"note": "x"}), ("use_tmpfs", True), ("tmpfs_size", 100),
        ("persistent_volume_claims", {"pvc": "/mnt/p"}), ("qos", "Guaranteed"),
        ("extended_resources", {"example.com/fpga": 1}), ("security_context", {"privileged": True}))},
    ("kubernetes", "namespace"): ('@kubernetes(namespace="ns")', "@kubernetes()"),
    ("kubernetes", "gpu_vendor"): ('@kubernetes(gpu=1, gpu_vendor="amd")', "@kubernetes(gpu=1)"),
    ("kubernetes", "tmpfs_path"): ('@kubernetes(use_tmpfs=True, tmpfs_path="/t")', "@kubernetes(use_tmpfs=True)"),
    ("batch", None): ("@batch()", ""),
    **{("batch", a): (f"{B}{a}={v!r})", "@batch()") for a, v in (
        ("cpu", 3), ("memory", 9000), ("gpu", 1), ("shared_memory", 512), ("image", "python:3.12"),
        ("queue", "q2"), ("iam_role", "arn:aws:iam::1:role/j"), ("execution_role", "arn:aws:iam::1:role/e"),
        ("max_swap", 100), ("inferentia", 1), ("trainium", 1), ("efa", 1), ("host_volumes", ["/h"]),
        ("efs_volumes", ["fs-1"]), ("use_tmpfs", True), ("aws_batch_tags", {"t": "v"}), ("tmpfs_size", 100),
        ("ephemeral_storage", 30), ("log_driver", "awslogs"), ("privileged", True))},
    ("batch", "swappiness"): ("@batch(max_swap=100, swappiness=10)", "@batch(max_swap=100)"),
    ("batch", "tmpfs_path"): ('@batch(use_tmpfs=True, tmpfs_path="/t")', "@batch(use_tmpfs=True)"),
    ("batch", "log_options"): ('@batch(log_driver="awslogs", log_options=["a:b"])', '@batch(log_driver="awslogs")'),
    ("retry", None): ("@retry", ""),
    ("retry", "times"): ("@retry(times=1)", "@retry"),
    ("retry", "minutes_between_retries"): ("@retry(minutes_between_retries=5)", "@retry"),
    ("catch", None): ("@catch", ""),
    ("catch", "var"): ('@catch(var="err")', "@catch"),
    ("catch", "print_exception"): ("@catch(print_exception=False)", "@catch"),
    ("timeout", None): ("@timeout(seconds=30)", ""),
    **{("timeout", a): (f"@timeout({a}=2)", "@timeout(seconds=1)") for a in ("seconds", "minutes", "hours")},
    ("environment", None): ("@environment(vars={'A': 'b'})", ""),
    ("environment", "vars"): ("@environment(vars={'A': 'b'})", "@environment"),
    ("secrets", None): ("@secrets(sources=['s'])", ""),
    ("secrets", "sources"): ("@secrets(sources=['s'])", "@secrets"),
    ("secrets", "role"): ("@secrets(sources=['s'], role='arn:aws:iam::1:role/r')", "@secrets(sources=['s'])"),
    ("project", None): ("flow:@project(name='p')", "flow:"),
    ("project", "name"): ("flow:@project(name='p')", "flow:@project(name='q')"),
    ("project", "branch"): ("flow:@project(name='p', branch='b')", "flow:@project(name='p')"),
    ("project", "production"): ("flow:@project(name='p', production=True)", "flow:@project(name='p')"),
    ("schedule", None): ("flow:@schedule", "flow:"),
    **{("schedule", a): (f"flow:@schedule({a}=True)", "flow:@schedule(cron='5 * * * *')")
       for a in ("hourly", "daily", "weekly")},
    ("schedule", "cron"): ("flow:@schedule(cron='5 * * * *')", "flow:@schedule"),
    ("schedule", "timezone"): ("flow:@schedule(cron='5 * * * *', timezone='Europe/Berlin')",
                               "flow:@schedule(cron='5 * * * *')"),
    ("exit_hook", None): ("flow:@exit_hook(on_success=['hooks.f'])", "flow:"),
    ("exit_hook", "on_success"): ("flow:@exit_hook(on_success=['hooks.f'])", "flow:@exit_hook(on_error=['hooks.f'])"),
    ("exit_hook", "on_error"): ("flow:@exit_hook(on_error=['hooks.f'], on_success=['hooks.f'])",
                                "flow:@exit_hook(on_success=['hooks.f'])"),
}
# @parallel under flowc run (num_parallel local processes) is exercised by the parity test, which
# runs tests/flows/valid_own/parallel_flow.py with flowc run and on Argo.
HONOURED_ROWS = sorted({(d, a) for d, a, f in ROWS for t in ("argo", "stepfunctions", "run")
                        if f.on(t) == D.HONOURED and d != "parallel"}, key=lambda r: (r[0], r[1] or ""))
ALL_IMPORTS = ("kubernetes, batch, resources, retry, catch, timeout, environment, secrets, project, "
               "schedule, exit_hook")


def _compiled(tmp_path, text, target, name, **settings):
    flow = text[5:] if text.startswith("flow:") else ""
    step = "" if text.startswith("flow:") else text
    d = tmp_path / name
    d.mkdir(exist_ok=True)
    path = _flow(d, step_decos=step + "\n    " if step else "", flow_decos=flow, imports=ALL_IMPORTS)
    if target == "run":
        from compiler.runtime_spec import plan_for_file

        plan, diags = plan_for_file(path, None, _settings(**settings), ())
        assert plan is not None, [(x.code, x.message) for x in diags]
        return repr([(s.compute, s.retry, s.timeout_seconds, s.catch, s.catch_var, s.catch_print, s.env,
                      s.secret_sources) for s in plan.steps.values()]
                    + [plan.name_parts, plan.schedule, plan.exit_hooks])
    result = compile_file(path, target, settings=_settings(**settings))
    assert result.ok, [(x.code, x.message) for x in result.diagnostics]
    return [f.content for f in result.files]


def test_every_honoured_row_has_a_sample():
    assert set(HONOURED_ROWS) <= set(HONOURED_SAMPLES), set(HONOURED_ROWS) - set(HONOURED_SAMPLES)


@pytest.mark.parametrize("deco,arg", HONOURED_ROWS, ids=[f"{d}.{a}" for d, a in HONOURED_ROWS])
def test_an_honoured_argument_changes_the_output(tmp_path, deco, arg):
    with_arg, without = HONOURED_SAMPLES[(deco, arg)]
    f = D.fate(deco, arg)
    for target in ("argo", "stepfunctions", "run"):
        if f.on(target) != D.HONOURED:
            continue
        kw = {"branch": None} if (deco, arg) == ("project", "branch") else {}   # a branch setting wins
        assert _compiled(tmp_path, with_arg, target, "a", **kw) != _compiled(tmp_path, without, target, "b", **kw), target


def _argo_docs(path):
    result = compile_file(path, "argo", settings=_settings())
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    return [yaml.safe_load(f.content) for f in result.files]


def test_argo_documents_with_every_honoured_compute_option_validate(tmp_path):
    """The strict Hera models and the strict schema (unknown fields refused) take the pods."""
    from tests.argo.validate import validate_all, validate_schema

    path = _flow(tmp_path, step_decos='@kubernetes(cpu=2, image_pull_secrets=["regcred"], qos="Guaranteed", '
                 'extended_resources={"example.com/fpga": 1}, security_context={"run_as_user": 1000, '
                 '"allow_privilege_escalation": False})\n    ')
    docs = _argo_docs(path)
    for doc in docs:
        validate_all(doc)
    assert validate_schema(docs[-1]), "the strict schema is not available"
    (tmp_path / "b").mkdir()
    batch = _flow(tmp_path / "b", step_decos='@batch(efs_volumes=["fs-1"], inferentia=1, aws_batch_tags={"a": "b"})\n    ')
    for doc in _argo_docs(batch):
        validate_all(doc)


def test_exit_hook_workflow_validates(tmp_path):
    from tests.argo.validate import validate_all

    path = os.path.join(os.path.dirname(__file__), "flows", "deco", "exit_hook_flow.py")
    docs = _argo_docs(path)
    for doc in docs:
        validate_all(doc)
    wt = next(d for d in docs if d["kind"] == "WorkflowTemplate")
    handler = next(t for t in wt["spec"]["templates"] if t["name"] == wt["spec"]["onExit"])
    assert {t["name"]: t["when"] for t in handler["dag"]["tasks"]} == {
        "success": "'{{workflow.status}}' == 'Succeeded'", "error": "'{{workflow.status}}' != 'Succeeded'"}


def test_new_user_text_is_checked_where_engines_read_it(tmp_path):
    """Batch tags and volumes reach the Argo submitter's arguments (where Argo substitutes `{{`);
    tag keys reach Step Functions' Parameters (where a key ending `.$` is a path)."""
    path = _flow(tmp_path, step_decos='@batch(aws_batch_tags={"t.$": "{{workflow.name}}"}, '
                 'efs_volumes=["fs-1:/mnt/{{x}}"])\n    ')
    argo = compile_file(path, "argo", settings=_settings())
    assert sorted(d.code for d in argo.diagnostics if d.is_error) == ["FC313", "FC313"]
    sfn = compile_file(path, "stepfunctions", settings=_settings())
    assert [d.code for d in sfn.diagnostics if d.is_error] == ["FC410"]
    (tmp_path / "k").mkdir()
    path = _flow(tmp_path / "k", step_decos='@kubernetes(image_pull_secrets=["Bad_Name"])\n    ')
    argo = compile_file(path, "argo", settings=_settings())
    assert [d.code for d in argo.diagnostics if d.is_error] == ["FC302"]


def test_flowc_run_backends_honour_the_same_options(tmp_path):
    """flowc run's Kubernetes Job and Batch SubmitJob come from the same compute/ builders."""
    from compiler.runner.backends import RemoteTask
    from compiler.runner.backends.batch import BatchBackend
    from compiler.runner.backends.kubernetes import KubernetesBackend
    from compiler.runtime_spec import plan_for_file
    from tests.stepfunctions.helpers import validate_request

    path = _flow(tmp_path, step_decos='@kubernetes(cpu=2, image_pull_secrets=["regcred"], qos="Guaranteed", '
                 'security_context={"run_as_user": 1000})\n    ')
    plan, _ = plan_for_file(path, None, _settings())
    step = plan.steps["start"]
    task = RemoteTask("F", "r1", step, "t", 0, ["task", "--step", "start"], {})
    job = KubernetesBackend(_settings(), "F", "abc", "s3://b/x.zip", api_client=object()).job_manifest(task)
    pod = job["spec"]["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    (container,) = pod["containers"]
    assert container["resources"]["limits"]["cpu"] == container["resources"]["requests"]["cpu"] == "2"
    assert container["securityContext"] == {"runAsUser": 1000}

    (tmp_path / "b").mkdir()
    path = _flow(tmp_path / "b", step_decos='@batch(aws_batch_tags={"team": "ml"}, efs_volumes=["fs-1"])\n    ')
    plan, _ = plan_for_file(path, None, _settings())
    step = plan.steps["start"]

    class Session:
        def client(self, name):
            return None

    backend = BatchBackend(_settings(), "F", "abc", "s3://b/x.zip", session=Session())
    backend.definitions["start"] = "flowc-def"
    request = backend.submit_request(RemoteTask("F", "r1", step, "t", 0, ["task"], {}))
    validate_request("batch", "SubmitJob", request)
    assert request["tags"]["team"] == "ml" and request["tags"]["flowc:flow"] == "F"
