"""The compile pipeline shared by every target and by deploy:
analyze -> lower -> code package -> target.check -> target.emit. Each stage returns data; the
diagnostics of every stage are collected and returned, never raised. The code package is built
once per compile here and handed to the target (which never builds it).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from compiler.diagnostics import Diagnostic, has_errors
from compiler.ir import FlowPlan
from compiler.targets.base import CodePackageRef, OutputFile


@dataclass
class CompileResult:
    plan: FlowPlan | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: list[OutputFile] = field(default_factory=list)
    package: CodePackageRef | None = None

    @property
    def ok(self) -> bool:
        return self.plan is not None and not has_errors(self.diagnostics)


def build_code_package(plan: FlowPlan, settings: Any = None) -> CodePackageRef:
    """The code package of a plan (see package_with_notes)."""
    return package_with_notes(plan, settings)[0]


def package_with_notes(plan: FlowPlan, settings: Any = None) -> tuple[CodePackageRef, list[Diagnostic]]:
    """The code package of a plan (codepackage.package_contents: the one rule for run, compile and
    deploy) and what the rule has to say about it (FC010 missing data files, FC011 skipped
    credential-looking files), as warnings."""
    from compiler import codepackage, runtime_spec
    from compiler.compute.container import code_url
    from compiler.diagnostics import WARNING, Span

    spec = runtime_spec.build(plan)
    include = tuple(getattr(settings, "package_include", ()) or ()) if settings is not None else ()
    package, found = codepackage.package_for_spec(plan.path, spec, runtime_spec.dumps(spec), include,
                                                  tuple(plan.local_modules))
    datastore = getattr(settings, "datastore", None) if settings is not None else None
    url = code_url(datastore, plan.flow_name, package.sha256) if datastore else None
    notes = [Diagnostic(n.code, WARNING, n.message, Span.point(n.line, n.col), path=n.path) for n in found]
    return CodePackageRef(package.data, package.sha256, url), notes


def compile_file(path: str, target_name: str, *, flow_name: str | None = None, settings: Any = None,
                 with_options: tuple[str, ...] = (), target_options: dict[str, Any] | None = None,
                 cache_dir: str | None = None) -> CompileResult:
    """cache_dir: where the analysis cache (compiler/frontend/cache.py) and the runtime's compiled
    bytecode (codepackage.PYC_CACHE_DIR) are kept; None: neither is."""
    cache = None
    if cache_dir:
        from compiler import codepackage
        from compiler.frontend.cache import AnalysisCache

        cache = AnalysisCache(cache_dir)
        codepackage.PYC_CACHE_DIR = cache_dir
    try:
        return _compile(path, target_name, flow_name, settings, with_options, target_options, cache)
    finally:
        if cache_dir:
            codepackage.PYC_CACHE_DIR = None


def _compile(path: str, target_name: str, flow_name: str | None, settings: Any, with_options: tuple[str, ...],
             target_options: dict[str, Any] | None, cache: Any) -> CompileResult:
    from compiler.runtime_spec import plan_for_file
    from compiler.targets import get_target

    plan, diagnostics = plan_for_file(path, flow_name, settings, with_options, cache=cache)
    if plan is None:
        return CompileResult(None, diagnostics)
    target = get_target(target_name, **(target_options or {}))
    package: CodePackageRef | None = None
    try:
        package, notes = package_with_notes(plan, settings)
        diagnostics.extend(notes)
    except OSError:        # a file it needs is unreadable: the target's check may say why
        pass
    diagnostics.extend(d if d.path else _with_path(d, path) for d in target.check(plan, package))
    if has_errors(diagnostics):
        return CompileResult(plan, diagnostics)
    if package is None:
        package = build_code_package(plan, settings)   # raises the OSError, as before
    files = target.emit(plan, package)
    return CompileResult(plan, diagnostics, files, package)


def _with_path(diagnostic: Diagnostic, path: str) -> Diagnostic:
    from dataclasses import replace

    return replace(diagnostic, path=path)


def write_outputs(files: list[OutputFile], out_dir: str) -> list[str]:
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for f in files:
        target = os.path.join(out_dir, f.name)
        with open(target, "wb") as handle:
            handle.write(f.content)
        written.append(target)
    return written


# What each file of a bundle is, by the kind of its document or its suffix (targets name files
# `<name>.<what>.json` or by the Kubernetes kind they hold).
_KINDS = {"ConfigMap": ("configmap", "Kubernetes ConfigMap holding the code package: kubectl apply it beside the workflow"),
          "WorkflowTemplate": ("workflow-template", "Argo WorkflowTemplate: kubectl apply (or argo template create)"),
          "CronWorkflow": ("cron-workflow", "Argo CronWorkflow (the flow's @schedule): kubectl apply after the template"),
          "Sensor": ("sensor", "Argo Events Sensor (the flow's @trigger): kubectl apply after the template")}
_SUFFIXES = {".asl.json": ("state-machine", "Step Functions state machine definition (CreateStateMachine definition)"),
             ".jobdef.json": ("batch-job-definition", "AWS Batch RegisterJobDefinition request (one job definition)"),
             ".schedule.json": ("schedule", "EventBridge Scheduler CreateSchedule request (the flow's @schedule)"),
             ".policy.json": ("iam-policy", "IAM policy the state machine's role needs (attach to --sfn-role-arn)"),
             ".events.json": ("event-rules", "EventBridge PutRule/PutTargets requests (the flow's @trigger), "
                              "after the state machine")}
MANIFEST_FORMAT = 1


def _describe(f: OutputFile) -> tuple[str, str]:
    kinds = [d.get("kind") for d in f.documents if isinstance(d, dict)]
    if kinds and kinds[0] in _KINDS:
        return _KINDS[kinds[0]]
    for suffix, described in _SUFFIXES.items():
        if f.name.endswith(suffix):
            return described
    return ("document", "compiled document")


def bundle_files(result: CompileResult, target_name: str) -> list[OutputFile]:
    """What `flowc compile -o DIR` writes: the compiled documents, the code package as its own
    file (`<Flow>.code.zip`), and `<Flow>.manifest.json` saying what each file is and where the
    package must be uploaded (its datastore URL, the key every task fetches) -- everything a
    deployment by other tools (Terraform, CloudFormation, CDK, kubectl) needs."""
    import json

    from compiler.compute.container import code_key

    assert result.plan is not None and result.package is not None
    plan, package = result.plan, result.package
    zip_name = f"{plan.flow_name}.code.zip"
    documents = []
    embedded_in = None
    for f in result.files:
        kind, what = _describe(f)
        documents.append({"file": f.name, "kind": kind, "what": what})
        if kind == "configmap":
            embedded_in = f.name
    url = package.url
    datastore = getattr(plan.settings, "datastore", None)
    upload: dict[str, Any] = {"file": zip_name, "sha256": package.sha256, "bytes": len(package.data)}
    if embedded_in:
        upload.update(required=False, embedded_in=embedded_in, upload_to=None,
                      what="the code package, also embedded in %s (no upload needed)" % embedded_in)
    else:
        upload.update(required=True, upload_to=url, datastore=str(datastore) if datastore else None,
                      key=code_key(plan.flow_name, package.sha256),
                      what="the code package: upload it to upload_to before the first run (tasks fetch it "
                           "from there and check its sha256)")
    manifest = {"format": MANIFEST_FORMAT, "flow": plan.flow_name, "target": target_name,
                "code_package": upload, "files": documents}
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    return list(result.files) + [OutputFile(zip_name, package.data, stdout=False),
                                 OutputFile(f"{plan.flow_name}.manifest.json", text.encode("utf-8"), stdout=False)]
