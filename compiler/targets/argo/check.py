"""What Argo cannot take, collected before anything is emitted: one function per phase.

parameters -> Kubernetes names of each pod -> text Argo would substitute -> backends -> flow shape
(DAG, schedules, recursion, triggers) -> sizes (exec limits, the ConfigMap).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from compiler.compute import batch as compute_batch
from compiler.diagnostics import ERROR, WARNING, Diagnostic
from compiler.ir import FlowPlan, StepPlan
from compiler.schedules import schedule_span
from compiler.targets.argo import codes, cron, dag, names
from compiler.targets.argo.arguments import include_file_content, parameter_value
from compiler.targets.base import CodePackageRef

CONFIGMAP_LIMIT = 1024 * 1024        # Kubernetes: a ConfigMap holds at most 1 MiB
# Linux MAX_ARG_STRLEN (32 pages): one argv or environment string, with its NUL
MAX_ARG_STRLEN = 131072
TEMPLATE_OVERHEAD = 16 * 1024        # the start template's JSON without values, bootstrap included


def problems(plan: FlowPlan, package: CodePackageRef | None, *, package_in_datastore: bool) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    out += parameter_problems(plan)
    for step in plan.steps.values():
        out += kubernetes_name_problems(step, plan.settings)
        out += template_tag_problems(step, plan.settings)
        out += backend_problems(step, plan.settings)
    out += shape_problems(plan)
    out += size_problems(plan)
    out += package_problems(plan, package, package_in_datastore)
    return out


def parameter_problems(plan: FlowPlan) -> Iterator[Diagnostic]:
    for p in plan.parameters:
        if not names.is_param_name(p.name):
            yield Diagnostic(codes.BAD_PARAMETER_NAME, ERROR,
                             f"parameter {p.name!r}: Argo parameter names allow only letters, digits, '-' and '_'", p.span)
        if p.name.startswith("flowc-"):
            yield Diagnostic(codes.RESERVED_PARAMETER, ERROR,
                             f"parameter {p.name!r}: names beginning with 'flowc-' are reserved", p.span)
        value = parameter_value(p, plan.path)
        bad = names.not_utf8(value) if value is not None else None
        if bad is not None:
            yield Diagnostic(codes.UNSUBSTITUTABLE, ERROR,
                             f"parameter {p.name!r}: its default holds {bad!r} (U+{ord(bad):04X}), "
                             "which is not UTF-8 text: Kubernetes cannot store it in the workflow", p.span)
        if p.kind == "include_file" and p.has_default and p.default:
            problem = include_file_content(plan.path, p)[1]
            if problem:
                yield Diagnostic(codes.INCLUDE_FILE, ERROR,
                                 problem + " (use `flowc deploy`, or pass the content when submitting)", p.span)


def kubernetes_name_problems(step: StepPlan, settings: Any) -> Iterator[Diagnostic]:
    """Labels, annotations, selectors, secrets, service account, image, env: what the API server refuses."""
    c = step.compute

    def bad(what: str) -> Diagnostic:
        return Diagnostic(codes.BAD_LABEL, ERROR, f"step {step.name}: {what}", step.span)

    for key, value in c.labels:
        if not names.is_label_key(key):
            yield bad(f"label key {key!r} is not a valid Kubernetes label key")
        if not names.is_label_value(value):
            yield bad(f"label value {value!r} (key {key!r}) is not a valid Kubernetes label value")
    for key, _ in c.annotations:
        if not names.is_annotation_key(key):
            yield bad(f"annotation key {key!r} is not a valid Kubernetes annotation key")
    for key, value in c.node_selector:
        if not (names.is_label_key(key) and names.is_label_value(value)):
            yield bad(f"node selector {key}={value!r} is not a valid Kubernetes label")
    for secret in c.k8s_secrets:
        if not names.is_dns_subdomain(secret):
            yield bad(f"secret name {secret!r} is not a valid Kubernetes name")
    for secret in c.image_pull_secrets:
        if not names.is_dns_subdomain(secret):
            yield bad(f"image pull secret {secret!r} is not a valid Kubernetes name")
    if c.service_account and not names.is_dns_subdomain(c.service_account):
        yield bad(f"service account {c.service_account!r} is not a valid Kubernetes name")
    image = c.image or getattr(settings, "image", None)
    if image and not names.is_image_reference(str(image)):
        yield bad(f"image {str(image)[:80]!r} is not a valid container image reference")
    for key in step.env:
        if not names.is_env_name(key):
            yield bad(f"environment variable name {key!r} is not valid in Kubernetes")


def template_strings(step: StepPlan, settings: Any) -> list[tuple[str, str]]:
    """User text that lands in a step's template (where Argo substitutes `{{...}}` tags)."""
    c = step.compute
    out: list[tuple[str, Any]] = [(f"environment variable {k}", v) for k, v in step.env.items()]
    out += [(f"annotation {k}", v) for k, v in c.annotations]
    out += [("image", c.image or getattr(settings, "image", None)), ("image pull policy", c.image_pull_policy),
            ("tmpfs path", c.tmpfs_path if (c.use_tmpfs or c.tmpfs_size) else None), ("queue", c.queue),
            ("IAM role", c.iam_role), ("execution role", c.execution_role)]
    for claim, path in c.persistent_volume_claims:
        out += [("volume claim", claim), ("volume path", path)]
    # @batch options travel in the compiled job definition, an argument of the submitter's template
    for key, value in c.batch_tags:
        out += [("Batch tag", key), ("Batch tag", value)]
    for source, path in c.host_volumes + c.efs_volumes:
        out += [("volume", source), ("volume path", path)]
    out += [("log driver", c.log_driver)] + [("log option", f"{k}:{v}") for k, v in c.log_options]
    out += [("security context", f"{k}={v}") for k, v in c.security_context]
    out += [("extended resource", f"{k}={v}") for k, v in c.extended_resources]
    for t in c.tolerations_list() if c.tolerations else []:
        out += [("toleration", v) for v in t.values()]
    return [(what, str(v)) for what, v in out if v is not None]


def template_tag_problems(step: StepPlan, settings: Any) -> Iterator[Diagnostic]:
    for what, value in template_strings(step, settings):
        if "{{" in value:
            yield Diagnostic(codes.TEMPLATE_TAG, ERROR,
                             f"step {step.name}: {what} {value[:80]!r} holds '{{{{', which Argo would substitute", step.span)


def backend_problems(step: StepPlan, settings: Any) -> Iterator[Diagnostic]:
    c = step.compute
    namespace = getattr(settings, "k8s_namespace", None)
    if c.namespace and c.namespace != namespace:
        yield Diagnostic(codes.NAMESPACE_IGNORED, WARNING,
                         f"step {step.name}: namespace {c.namespace!r} is ignored; every pod runs in the workflow's "
                         f"namespace ({namespace or 'the namespace it is submitted to'})", step.span)
    if c.backend != "batch":
        return
    datastore = str(getattr(settings, "datastore", None) or "")
    if datastore and not datastore.startswith("s3://"):
        yield Diagnostic(codes.BATCH_NEEDS_S3, ERROR,
                         f"step {step.name}: @batch runs on AWS Batch, which cannot reach the datastore {datastore}", step.span)
    if not (c.queue or getattr(settings, "batch_queue", None)):
        yield Diagnostic(codes.BATCH_NO_QUEUE, WARNING,
                         f"step {step.name}: @batch has no job queue (queue=... or FLOWC_BATCH_QUEUE); the workflow "
                         f"names the placeholder queue {compute_batch.PLACEHOLDER_QUEUE!r}", step.span)


def shape_problems(plan: FlowPlan) -> Iterator[Diagnostic]:
    """The flow as a whole: gangs, DAG shapes, schedules, recursion depth."""
    for step in plan.steps.values():
        if step.kind == "parallel" or step.num_parallel:
            yield Diagnostic(codes.PARALLEL_UNGANGED, WARNING,
                             f"step {step.name}: num_parallel={step.num_parallel} runs as {step.num_parallel} "
                             "independent pods", step.span)
    for problem, span in cron.schedule_problems(plan):
        yield Diagnostic(codes.BAD_SCHEDULE, ERROR, problem, span)
    version = cron.version_problem(plan)
    if version:
        yield Diagnostic(codes.BAD_SCHEDULE, ERROR, version, None)
    lay = dag.layout(plan)
    for step in plan.steps.values():
        if step.recursive:
            passes = dag.max_passes(2 + dag.foreach_depth(plan, lay, step.name))
            yield Diagnostic(codes.RECURSION_DEPTH, WARNING,
                             f"step {step.name}: a recursive switch makes at most {passes} "
                             "passes on Argo (templates nest at most 100 deep)", step.span)


def _b64_len(n: int) -> int:
    return 4 * ((n + 2) // 3)


def size_problems(plan: FlowPlan) -> list[Diagnostic]:
    """FC317: a value the start step could not exec (templates.param_b64 makes each one argv entry
    `NAME=BASE64`; Linux caps one string at MAX_ARG_STRLEN). On Argo v3.5 the template JSON with
    every value is also the ARGO_TEMPLATE environment string of each container
    (workflow/controller/workflowpod.go createWorkflowPod)."""
    out = []
    total = 0
    for p in plan.parameters:
        value = parameter_value(p, plan.path)
        if value is None:
            continue
        raw = len(value.encode("utf-8", "surrogateescape"))
        size = len(p.name) + 1 + _b64_len(raw) + 1
        total += size + len(p.name) + 40          # the template JSON also names each input
        if size > MAX_ARG_STRLEN:
            what = "IncludeFile content" if p.kind == "include_file" else "default"
            out.append(Diagnostic(codes.VALUE_TOO_LARGE, ERROR,
                                  f"parameter {p.name!r}: its {what} is {raw} bytes, {size} as the start step's "
                                  f"argument; one argument can be at most {MAX_ARG_STRLEN} bytes (about 96 KiB of value)",
                                  p.span))
    version = cron.version_tuple(getattr(plan.settings, "argo_version", None)) or (4, 1)
    if not out and version < (3, 6) and total + TEMPLATE_OVERHEAD > MAX_ARG_STRLEN:
        out.append(Diagnostic(codes.VALUE_TOO_LARGE, ERROR,
                              f"the parameter defaults take {total} bytes in the start step's template; on Argo "
                              f"v3.5 the template is one environment string (ARGO_TEMPLATE) of at most "
                              f"{MAX_ARG_STRLEN} bytes", plan.parameters[0].span if plan.parameters else None))
    return out


def package_problems(plan: FlowPlan, package: CodePackageRef | None, in_datastore: bool) -> Iterator[Diagnostic]:
    datastore = str(getattr(plan.settings, "datastore", None) or "")
    if not datastore and plan.schedule is not None:
        # nobody passes arguments to a CronWorkflow's runs: every scheduled run would fail
        yield Diagnostic(codes.NO_DATASTORE, ERROR, "@schedule needs a datastore setting: the CronWorkflow's "
                         "runs get no flowc-datastore argument (set FLOWC_DATASTORE=s3://bucket/prefix)",
                         schedule_span(plan, "cron"))
    elif not datastore:
        yield Diagnostic(codes.NO_DATASTORE, WARNING,
                         "no datastore setting: submissions must pass the argument flowc-datastore", None)
    if in_datastore and not datastore.startswith("s3://"):
        yield Diagnostic(codes.NO_DATASTORE, ERROR, "the code package goes to the datastore: set an s3:// datastore", None)
    if not in_datastore and package is not None and len(package.data) > CONFIGMAP_LIMIT:
        yield Diagnostic(codes.PACKAGE_TOO_LARGE, ERROR,
                         f"the code package is {len(package.data)} bytes; a ConfigMap holds at most {CONFIGMAP_LIMIT}: "
                         "use `flowc deploy --target argo`, which stores it in the datastore", None)
