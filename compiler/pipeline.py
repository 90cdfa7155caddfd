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

    spec_bytes = runtime_spec.dumps(runtime_spec.build(plan))
    include = tuple(getattr(settings, "package_include", ()) or ()) if settings is not None else ()
    include_defaults = [str(p.default) for p in plan.parameters if p.kind == "include_file" and p.has_default and p.default]
    contents = codepackage.package_contents(plan.path, tuple(plan.local_modules), include, include_defaults)
    package = codepackage.build_package(plan.path, spec_bytes, contents=contents)
    datastore = getattr(settings, "datastore", None) if settings is not None else None
    url = code_url(datastore, plan.flow_name, package.sha256) if datastore else None
    notes = [Diagnostic(n.code, WARNING, n.message, Span.point(n.line, n.col), path=n.path) for n in contents.notes]
    return CodePackageRef(package.data, package.sha256, url), notes


def compile_file(path: str, target_name: str, *, flow_name: str | None = None, settings: Any = None,
                 with_options: tuple[str, ...] = (), target_options: dict[str, Any] | None = None) -> CompileResult:
    from compiler.runtime_spec import plan_for_file
    from compiler.targets import get_target

    plan, diagnostics = plan_for_file(path, flow_name, settings, with_options)
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
