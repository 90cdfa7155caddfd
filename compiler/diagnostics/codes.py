"""The registry of diagnostic codes: severity, title and a doc (what, why, example, fix).

Ranges: FC0xx source, syntax and flow class; FC1xx graph and transitions; FC2xx decorators and
parameters (front end); FC5xx settings and command-line options: all here. FC3xx (Argo) and FC4xx
(Step Functions) live beside their target, in the module its registry entry names
(compiler/targets/__init__.py, TargetSpec.codes); `compiler.targets.load_all_codes()` registers
them, so `flowc explain` knows every code whatever was imported first.
"""
from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Code:
    code: str
    severity: str          # default severity: "error" | "warning"
    title: str
    what: str = ""
    why: str = ""
    example: str = ""
    fix: str = ""

    def doc(self) -> str:
        parts = [f"{self.code} ({self.severity}): {self.title}", ""]
        for label, text in (("What", self.what), ("Why", self.why), ("Example", self.example),
                            ("Fix", self.fix)):
            if text:
                parts.append(f"{label}:")
                parts.extend("    " + line for line in text.strip("\n").splitlines())
                parts.append("")
        return "\n".join(parts).rstrip() + "\n"


REGISTRY: dict[str, Code] = {}


def register(code: Code, *, replace: bool = False) -> Code:
    """Add a code to the registry. Registering the same code twice is an error unless identical."""
    old = REGISTRY.get(code.code)
    if old is not None and old != code and not replace:
        raise ValueError(f"diagnostic code {code.code} registered twice")
    REGISTRY[code.code] = code
    return code


def get(code: str) -> Code | None:
    return REGISTRY.get(code.upper())


def all_codes() -> list[Code]:
    return [REGISTRY[k] for k in sorted(REGISTRY)]


def _c(code, severity, title, what, why, example, fix):
    register(Code(code, severity, title, what, why, example, fix))


# --- FC0xx: source, syntax, flow class ------------------------------------------------------
_c("FC000", ERROR, "internal error",
   "flowc failed unexpectedly while analyzing the file.", "This is a bug in flowc.",
   "", "Please report it with the file and the traceback (set FLOWC_DEBUG=1).")
_c("FC001", ERROR, "syntax error",
   "The file is not valid Python.", "flowc reads the source; it cannot analyze what does not parse.",
   "def end(self)\n    pass", "Fix the syntax at the position shown (here: add the missing ':').")
_c("FC002", ERROR, "cannot read file",
   "The flow file could not be read or decoded.", "There is nothing to analyze.",
   "flowc check missing.py", "Check the path and the file's permissions and encoding.")
_c("FC003", ERROR, "no flow class",
   "The file defines no subclass of metaflow.FlowSpec.",
   "A flow is a class that inherits FlowSpec; without one there is nothing to compile.",
   "def start():\n    return 1",
   "Define `class MyFlow(FlowSpec):` with @step methods (import FlowSpec from metaflow).")
_c("FC004", ERROR, "several flow classes",
   "The file defines more than one FlowSpec subclass and no --flow option chose one.",
   "flowc compiles one flow at a time.", "class A(FlowSpec): ...\nclass B(FlowSpec): ...",
   "Pass --flow NAME, or keep one flow per file.")
_c("FC005", ERROR, "flow not found",
   "The flow named with --flow is not a FlowSpec subclass of the file.",
   "flowc cannot guess which class was meant.", "flowc check flows.py --flow Missing",
   "Use one of the names listed in the message.")

# --- FC01x: the code package (compiler/codepackage.py, compiler/datafiles.py) -----------------
_c("FC010", WARNING, "data file read by the flow is not beside it",
   "A step reads a file by a literal relative path (open(\"US.data\"), pd.read_csv(\"data/x.csv\"), "
   "Path(\"a.json\"), open(f\"{c}.data\") as the glob *.data), and no such file is in the flow's folder.",
   "Every task starts in an empty working directory holding only the code package; the files the "
   "package gets are those beside the flow that its code reads. A missing one fails the task "
   "with FileNotFoundError on the cluster, even where `flowc run` found it in another directory.",
   "self.table = open(\"table.csv\").read()    # no table.csv next to flow.py",
   "Put the file beside the flow, or list it with package_include / --package-include, or read it "
   "from the datastore or an IncludeFile parameter.")
_c("FC011", WARNING, "credential-looking file not packaged",
   "A file the flow reads, or a package_include glob matches, looks like credentials (.env, "
   "credentials, id_rsa*, *.pem, *.key, .aws/, .ssh/, .netrc, ...), so it was left out of the package.",
   "Everything in a code package is readable by every pod and job of the flow and by whoever can "
   "read the datastore; a key committed there by accident leaks.",
   "[tool.flowc]\npackage_include = [\"*\"]     # would have packaged .env and id_rsa",
   "Pass secrets with @secrets or @kubernetes(secrets=...). To package the file anyway, name it "
   "exactly (not by a glob) in package_include.")

# --- FC1xx: steps, graph and transitions ----------------------------------------------------
_c("FC101", ERROR, "reserved step name",
   "A step uses a name that Metaflow reserves (name, next, input, index, cmd, foreach_stack, ...).",
   "`self.input`, `self.index`, `self.next` ... are attributes of every flow; a step with that "
   "name would shadow them.",
   "@step\ndef input(self): ...", "Rename the step (and every self.next that targets it).")
_c("FC102", ERROR, "no start step",
   "The flow has no step named `start` and no @step(start=True).",
   "Every run begins at the start step.", "@step\ndef begin(self): ...",
   "Name the first step `start` or decorate it with @step(start=True).")
_c("FC103", ERROR, "no end step",
   "The flow has no step named `end` and no @step(end=True).",
   "Every run finishes at the end step.", "@step\ndef finish(self): pass",
   "Name the last step `end` or decorate it with @step(end=True).")
_c("FC104", ERROR, "ambiguous start or end step",
   "Several steps are marked @step(start=True) (or end=True), or a marked step coexists with a "
   "step named `start` (or `end`).", "A flow has exactly one start and one end.",
   "@step(start=True)\ndef begin(self): ...\n@step\ndef start(self): ...",
   "Keep exactly one start and one end step.")
_c("FC105", ERROR, "start or end step in the wrong place",
   "The end step calls self.next(), or a step transitions into the start step.",
   "The end step terminates the run; the start step has no predecessor.",
   "@step\ndef end(self):\n    self.next(self.start)", "Remove the transition.")
_c("FC106", ERROR, "missing or misplaced self.next",
   "A step other than end does not end with a self.next(...) call as its last statement "
   "(for example the call sits inside an if, a loop or a try).",
   "The graph is read from the source before the flow runs: each step has one static transition.",
   "if self.ok:\n    self.next(self.a)\nelse:\n    self.next(self.b)",
   "Make self.next(...) the last statement of the step; for a run-time choice use a switch: "
   "self.next({\"a\": self.a, \"b\": self.b}, condition=\"route\").")
_c("FC107", ERROR, "wrong number of step arguments",
   "A step takes other arguments than `self` (or `self, inputs` for a join).",
   "Metaflow calls steps with self, and joins with self and the inputs.",
   "@step\ndef a(self, x, y): ...", "Use `def a(self)`, or `def join(self, inputs)` for a join.")
_c("FC108", ERROR, "transition is not static",
   "An argument of self.next(...) is not `self.<step>` (or a switch dict of them).",
   "The graph must be known without running the flow.", "self.next(getattr(self, name))",
   "Name the target step directly: self.next(self.target).")
_c("FC109", ERROR, "unknown step in transition",
   "self.next(self.x) names a step that the flow does not define.",
   "The run would fail at that transition.", "self.next(self.evaluate)  # the step is `evaluation`",
   "Use the name of an existing step (see the suggestion), or define the step.")
_c("FC110", ERROR, "loop in the graph",
   "The transitions form a cycle. Metaflow allows a loop only as a switch with itself among its "
   "cases (a recursive switch).", "A workflow engine needs a DAG; an unbounded loop never ends.",
   "def b(self):\n    self.next(self.a)  # a -> b -> a",
   "Break the loop, or express it as a recursive switch: "
   "self.next({\"again\": self.b, \"done\": self.c}, condition=\"state\") inside step b.")
_c("FC111", ERROR, "unreachable step",
   "No path from the start step leads to this step.", "It would never run; often a typo in a "
   "transition.", "@step\ndef orphan(self): ...", "Add a transition to it, or remove it.")
_c("FC112", ERROR, "split never joined",
   "A split (static branch, foreach or num_parallel) is still open when the end step is reached.",
   "Every split must be closed by a join step (one taking `inputs`) before end.",
   "self.next(self.work, foreach=\"items\")  # work -> end, no join",
   "Add a join step: def join(self, inputs): ... self.next(self.end).")
_c("FC113", ERROR, "branches meet in a step without inputs",
   "Several branches of a split lead to a step that does not take an `inputs` argument.",
   "Only a join step (def j(self, inputs)) can receive the results of several branches.",
   "@step\ndef merge(self):  # reached from a and b",
   "Add the `inputs` argument: def merge(self, inputs).")
_c("FC114", ERROR, "join does not match a split",
   "A join step (taking `inputs`) is not preceded by a split, or the paths reaching it are not "
   "all the branches of the innermost open split.",
   "A join collects exactly the branches of one split.",
   "@step\ndef j(self, inputs):  # after a plain linear step",
   "Make every branch of the split lead to the join, or remove the `inputs` argument.")
_c("FC115", ERROR, "join across unrelated splits",
   "A join receives steps that belong to different splits.",
   "Each split needs its own join; joining across scopes has no meaning.",
   "mixed joins a1 (branch of a) and b (branch of start)",
   "Join the inner split first, then join its result with the outer branches.")
_c("FC116", ERROR, "empty foreach",
   "A foreach split is followed directly by a join step.",
   "A foreach needs at least one step to run per item.",
   "self.next(self.join, foreach=\"items\")", "Add a step between the split and the join.")
_c("FC117", ERROR, "invalid foreach or num_parallel",
   "foreach= is not a string literal naming an artifact, num_parallel= is not a positive "
   "integer, or the transition has several targets or an unknown keyword.",
   "The engine reads the artifact named by foreach= to know how many tasks to start.",
   "self.next(self.work, foreach=self.items)",
   "Write the artifact name as a string: self.next(self.work, foreach=\"items\").")
_c("FC118", ERROR, "invalid switch",
   "A conditional transition self.next({...}, condition=...) has fewer than two cases, a "
   "condition that is not a string literal, case keys that are not literals, or values that "
   "are not `self.<step>`.", "The cases must be known statically.",
   "self.next({\"a\": self.a}, condition=\"route\")",
   "Give at least two cases and condition=\"<artifact name>\".")
_c("FC119", ERROR, "conditional path straight to a join",
   "A case of a switch leads directly to a join step.",
   "Metaflow refuses it: the join could not tell which of its inputs ran.",
   "self.next({\"a\": self.join, \"b\": self.b}, condition=\"c\")",
   "Add an intermediate, unconditional step on that path before the join.")
_c("FC120", ERROR, "invalid @parallel usage",
   "self.next(..., num_parallel=N) targets a step without @parallel, a @parallel step is reached "
   "otherwise, or a @parallel step is not followed by a join.",
   "Gang-scheduled (@parallel) steps run only under num_parallel and are joined afterwards.",
   "self.next(self.train, num_parallel=4)  # train has no @parallel",
   "Decorate the target with @parallel and follow it with a join step.")
_c("FC121", ERROR, "invalid step name",
   "A step name contains characters other than lowercase ascii letters, digits and underscores, "
   "or starts with an underscore.", "Metaflow uses step names in paths and CLI arguments.",
   "@step\ndef Train(self): ...", "Use a lowercase name: def train(self).")
_c("FC122", ERROR, "step defined twice",
   "Two methods of the flow class have the same name.",
   "The later definition silently replaces the earlier one.",
   "@step\ndef a(self): ...\n@step\ndef a(self): ...", "Rename or remove one of them.")

# --- FC2xx: decorators and parameters -------------------------------------------------------
_c("FC201", ERROR, "argument not known before the run",
   "A decorator or Parameter argument needs execution to evaluate (a function call, an "
   "environment read, an attribute of an unknown object).",
   "flowc reads the source and never imports the flow; compiled workflows need the values now.",
   "@resources(memory=pick_memory())",
   "Use a literal, a module-level constant, arithmetic on constants or a constant imported from "
   "a module beside the flow.")
_c("FC202", ERROR, "invalid decorator argument value",
   "A known decorator argument has the wrong type or an out-of-range value.",
   "The value would be rejected by the backend or silently misread.",
   "@resources(memory=\"lots\")   @resources(cpu=-2)",
   "Give a value of the documented type (memory and disk in MB as numbers, cpu > 0, ...).")
_c("FC203", ERROR, "unknown decorator argument",
   "A known decorator is given an argument it does not have. (An error, as in Metaflow, which "
   "refuses unknown attributes when the flow starts.)",
   "A misspelt argument would otherwise be ignored.", "@resources(memroy=8000)",
   "Use one of the arguments listed in the message.")
_c("FC204", WARNING, "unknown decorator",
   "A decorator on a step or on the flow is not one flowc knows; it is kept but ignored by "
   "every target.", "Extensions' decorators (@checkpoint, @model, ...) have no meaning to flowc.",
   "@checkpoint\n@step\ndef train(self): ...",
   "Remove it, or accept that compiled workflows do not apply it.")
_c("FC205", ERROR, "decorator not imported",
   "A decorator name is used but never imported or defined in the file.",
   "The flow would fail with a NameError when imported.", "@resources(cpu=2)  # no import",
   "Add it to the import: from metaflow import resources.")
_c("FC206", ERROR, "duplicate parameter name",
   "Two Parameter/IncludeFile/Config declarations use the same name.",
   "Run-time arguments are passed by name; two parameters cannot share one.",
   "rate = Parameter(\"rate\")\nrate_again = Parameter(\"rate\")", "Give each parameter its own name.")
_c("FC207", ERROR, "parameter name clashes",
   "A parameter name is reserved by Metaflow's command line (params, with, tag, namespace, "
   "run-id, ...), or equals the name of a step or a reserved attribute.",
   "The name would shadow a step or a command line option.",
   "tag = Parameter(\"tag\")", "Rename the parameter.")
_c("FC208", ERROR, "invalid parameter declaration",
   "A Parameter/IncludeFile/Config call has no name, a name that is not a string, an unknown "
   "type=, or a default that does not match its type.",
   "The compiled workflow declares parameters with their names and types.",
   "Parameter(default=3)", "Write Parameter(\"name\", default=..., type=int|float|str|bool|JSONType).")
_c("FC209", ERROR, "decorator applied twice",
   "The same decorator appears twice on one step or on the flow.",
   "Metaflow refuses it; which one applies would be ambiguous.",
   "@retry(times=1)\n@retry(times=2)", "Keep one.")
_c("FC210", ERROR, "decorator in the wrong place",
   "A flow decorator (@schedule, @project, @trigger, ...) is on a step, or a step decorator is on "
   "the flow class, or a step has no @step decorator.",
   "Step and flow decorators are different kinds.", "@schedule(daily=True)\n@step\ndef start(self): ...",
   "Move the decorator to the flow class (or onto a step).")
_c("FC211", ERROR, "conflicting compute decorators",
   "A step has both @kubernetes and @batch.", "A step runs on one compute backend.",
   "@kubernetes\n@batch\n@step\ndef train(self): ...", "Keep one of them (or use @resources).")
_c("FC212", WARNING, "method without @step",
   "A method of the flow is the target of a transition but lacks @step, or a @step-looking "
   "method lacks the decorator.", "Only @step methods are steps.",
   "def helper(self):\n    self.next(self.end)", "Add @step.")
_c("FC213", ERROR, "IncludeFile default outside the flow's folder",
   "An IncludeFile's default is an absolute path, starts with ~, or climbs out with '..'.",
   "The compiler reads an IncludeFile default and publishes its content with the compiled workflow "
   "(Argo arguments, the code package). A pull request whose CI runs `flowc compile` could name "
   "/etc/passwd or ../secrets.txt and publish a file of the CI machine.",
   "data = IncludeFile(\"data\", default=\"../shared/table.csv\")",
   "Put the file beside the flow (or below its folder), pass it when starting the run, or set "
   "allow_outside_files = true in [tool.flowc] if reading it is intended.")
_c("FC240", ERROR, "@trigger / @trigger_on_finish in a form flowc cannot read",
   "The decorator's arguments are not one of Metaflow's forms: event= or events= (flow= or "
   "flows=), not both; an event is a name or {'name': ..., 'parameters': ...}; parameters is a "
   "dict {'flow_param': 'payload_field'} or a list of names and (param, field) pairs.",
   "The Sensor / EventBridge rule is compiled from these values; a guess would start the flow "
   "on the wrong events or never.",
   "@trigger(event={'parameters': {'alpha': 'a'}})   # no name",
   "Write the event as @trigger(event={'name': 'data_ready', 'parameters': {'alpha': 'a'}}).")
_c("FC241", ERROR, "event payload mapped to a parameter the flow does not declare",
   "A @trigger parameter mapping names a flow parameter that no Parameter declares (names are "
   "compared case-insensitively, as Metaflow does; Configs cannot be set by an event).",
   "The payload field would be dropped and the run would start with the default.",
   "@trigger(event={'name': 'data_ready', 'parameters': {'alpah': 'alpha'}})",
   "Map to a declared parameter, or declare it: alpha = Parameter('alpha', default=1).")
_c("FC242", ERROR, "event name with characters an event cannot carry",
   "An event name holds characters other than letters, digits, _, - and . (Metaflow's rule).",
   "Event names are matched in Sensor filters and EventBridge patterns, and published by "
   "`flowc trigger`; other characters break the filter or could never be sent.",
   "@trigger(event='data ready')", "Use a name such as data_ready or team.data-ready.")
_c("FC243", ERROR, "payload field name with characters flowc does not map",
   "A payload field in a parameter mapping holds characters other than letters, digits and _.",
   "The field becomes a gjson path (Argo Events) and a JSONPath (EventBridge); a dot or a "
   "wildcard there would read another field than the one named.",
   "@trigger(event={'name': 'e', 'parameters': {'alpha': 'data.alpha'}})",
   "Publish the value under a flat field name (alpha) and map that.")
_c("FC244", ERROR, "event or parameter named twice in the triggers",
   "The same event appears twice, or two mappings set the same parameter.",
   "Which value would win is undefined; Metaflow refuses both.",
   "@trigger(events=[{'name': 'a', 'parameters': {'x': 'f'}}, {'name': 'b', 'parameters': {'x': 'g'}}])",
   "Name each event once and map each parameter from one field.")
_c("FC245", ERROR, "@trigger_on_finish flow name flowc cannot resolve",
   "The upstream flow is not a class name (letters, digits, _), not project.branch.FlowName, or "
   "names only one of project and project_branch without @project to complete it.",
   "The flow listens for the upstream's completion event, which is named after its project, "
   "branch and class; with a part missing it would listen for an event nobody sends.",
   "@trigger_on_finish(flow='data.Flow')",
   "Use flow='DataFlow', flow='proj.prod.DataFlow' or flow={'name': 'DataFlow', "
   "'project': 'proj', 'project_branch': 'prod'}.")
_c("FC246", WARNING, "unknown @trigger option",
   "options= holds a key flowc does not know; only reset_at ({'cron': ..., 'timezone': ...}, the "
   "Argo Sensor's conditionsReset) is compiled.",
   "Options are backend-specific in Metaflow; an unknown one has no effect.",
   "@trigger(event='e', options={'reset_every': '1d'})", "Remove it, or use reset_at.")
_c("FC214", ERROR, "number not finite or not whole",
   "A decorator number is inf or nan (a literal such as 1e400 is inf), a count (gpu, inferentia, "
   "efa, retry times) is not a whole number, or a @timeout is longer than any engine holds.",
   "Metaflow converts counts with int(); a GPU of 1.5 cannot be scheduled. Engines store deadlines "
   "as 32-bit seconds; an infinite value would otherwise end in an OverflowError.",
   "@resources(gpu=1.5)   @timeout(minutes=1e308)   --with kubernetes:cpu=1e400",
   "Give a finite number; whole numbers for counts.")
_c("FC215", ERROR, "invalid @project name",
   "@project(name=...) or branch= holds characters other than lowercase letters, digits and '_', "
   "is empty, or is longer than 128 characters.",
   "Metaflow allows only [a-z0-9_]; the name becomes part of workflow, state machine and S3 names, "
   "where a '/' or '..' could reach other paths.",
   "@project(name=\"../../etc/passwd\")", "Use a name such as \"fraud_model\".")
_c("FC216", ERROR, "unknown Parameter keyword",
   "Parameter/IncludeFile/Config is given a keyword that neither it nor click.Option takes.",
   "Metaflow passes extra keywords to click, which fails when it builds the flow's command line; "
   "a misspelt `default` would otherwise leave the parameter without its default.",
   "alpha = Parameter(\"alpha\", defualt=0.5)", "Use the keyword the message suggests.")
_c("FC217", WARNING, "@pypi/@conda environment not created",
   "A step or the flow has @pypi, @conda, @pypi_base or @conda_base. flowc creates no environment.",
   "Metaflow builds an environment with these packages for each step; flowc runs the step in the "
   "image as it is, so an import of a package the image lacks fails at run time.",
   "@pypi(packages={\"pandas\": \"2.2.2\"})",
   "Build an image that carries the packages (@kubernetes(image=...)/@batch(image=...)), or set "
   "FLOWC_INSTALL_PACKAGES=1 in the step's environment to pip-install them at task start into a "
   "cache keyed by their hash (costs a download on the first task of each machine).")
_c("FC218", WARNING, "@card not rendered",
   "A step has @card. flowc renders no cards; `current.card` accepts components and drops them.",
   "Cards are Metaflow's UI feature; the compiled workflows have no card service.",
   "@card(type=\"blank\")", "Store what the card shows as artifacts, or remove @card.")
_c("FC219", WARNING, "decorator argument accepted but not applied",
   "A documented Metaflow decorator or argument has no meaning for flowc on any target, e.g. "
   "@kubernetes(port=..., compute_pool=..., executable=...), @batch(executable=...), tmpfs_tempdir, "
   "@secrets(allow_override=...), @exit_hook(options=...), @airflow_external_task_sensor.",
   "It compiles, but nothing in the output applies it: the warning says so instead of silence.",
   "@kubernetes(compute_pool=\"gpu-pool\")", "Remove it, or express it with a setting flowc applies.")
_c("FC220", ERROR, "invalid @exit_hook",
   "@exit_hook has neither on_success nor on_error, or names something that is not a module-level "
   "function of the flow file (or a dotted `module.function`).",
   "The hook runs after the run ends, in its own container, by importing the flow file and calling "
   "the function; a missing one would fail only then.",
   "@exit_hook(on_error=[\"notfy\"])", "Name a function defined at module level in the flow file.")
_c("FC221", ERROR, "not available on Fargate",
   "@batch(ephemeral_storage=...) makes the job a Fargate job, and the step also asks for something "
   "Fargate does not offer (tmpfs, shared memory, swap, devices, host volumes, privileged, GPUs).",
   "AWS Batch refuses such a job definition when it is registered.",
   "@batch(ephemeral_storage=50, use_tmpfs=True)", "Drop one of them.")
_c("FC222", WARNING, "a @parallel framework decorator is run as plain @parallel",
   "@pytorch_parallel, @torchrun, @metaflow_ray and @deepspeed make a step a @parallel step and start "
   "a framework across its tasks (a torchrun launcher, a Ray cluster, DeepSpeed).",
   "flowc runs the step as @parallel (num_parallel tasks, with @parallel's own fate on each target) "
   "and starts no framework: current.torch, current.ray and similar are not available.",
   "@torchrun\n@step\ndef train(self): current.torch.run(entrypoint=\"train.py\")",
   "Start the framework in the step's own code, or run the flow with Metaflow where the extension "
   "is installed.")

# Metaflow Configs resolved at compile time (compiler/frontend/configs.py), and the environment
_c("FC250", ERROR, "config file cannot be read",
   "A Config's file (its default=, or the file given with --config NAME PATH) does not exist or "
   "cannot be read. A default file is read relative to the flow's folder; a --config path relative "
   "to the current directory.",
   "flowc resolves configs when it compiles, as Metaflow does when it deploys: every decorator "
   "that reads the config needs its value now (Metaflow refuses a missing file too).",
   "cfg = Config(\"cfg\", default=\"config.json\")   # no config.json beside the flow",
   "Add the file, fix the path, or give another with --config cfg PATH.")
_c("FC251", ERROR, "config cannot be parsed",
   "A Config's text is not valid in its format: JSON without parser=, TOML with "
   "parser=\"tomllib.loads\", YAML with parser=\"yaml.safe_load\". The message names the file "
   "and, when the parser says, the line and column in it.",
   "A config that does not parse has no value to put in the decorators.",
   "config.json: {\"cpu\": 2,}", "Fix the file at the line given.")
_c("FC252", ERROR, "config value of the wrong type",
   "A Config's value is not a mapping (a JSON object, a TOML or YAML table) although it is not "
   "plain=True, or default= is not a path, or the value holds something flowc cannot carry to the "
   "tasks as JSON.",
   "Metaflow wraps a config in a ConfigValue (a read-only mapping); the tasks receive the value "
   "that the compiler used, as JSON.",
   "cfg = Config(\"cfg\", default_value=\"[1, 2]\")",
   "Make the top level a mapping, or declare Config(..., plain=True) for other values.")
_c("FC253", ERROR, "key not in the config",
   "A decorator argument, Parameter default or config_expr reads a key the config does not have "
   "(`cfg.resources.cpu` with no `cpu` under `resources`), or an index past the end of a list.",
   "The value of the argument is unknown; Metaflow fails the same way when it deploys.",
   "@resources(cpu=cfg.resources.cpus)",
   "Use one of the keys the message lists, or add the key to the config file.")
_c("FC254", ERROR, "config value is not a mapping",
   "`.key` or `[key]` is read from a part of a config that is a number, string or list.",
   "Only mappings have keys.", "@resources(cpu=cfg.cpu.count)   # cfg.cpu is 2",
   "Read the value itself (cfg.cpu), or change the config's shape.")
_c("FC255", ERROR, "config parser cannot run at compile time",
   "A Config's parser= is the flow's own function (or one flowc does not know). flowc never imports "
   "the flow, so it cannot call it to read the config.",
   "Metaflow calls the parser when it deploys; a compiler that reads the source can only use "
   "parsers it knows.",
   "cfg = Config(\"cfg\", default=\"cfg.ini\", parser=my_ini_parser)",
   "Use parser=\"tomllib.loads\" (TOML), parser=\"yaml.safe_load\" (YAML) or no parser (JSON); "
   "or have your own tool write a JSON file before compiling and name it in default=.")
_c("FC256", ERROR, "required config has no value",
   "A Config(required=True) has no default file or value and none was given.",
   "Metaflow refuses to deploy it; so does flowc.",
   "cfg = Config(\"cfg\", required=True)", "Pass --config cfg PATH or --config-value cfg JSON.")
_c("FC257", ERROR, "config with both default and default_value",
   "A Config gives both default= (a file) and default_value= (a value).",
   "Metaflow allows one of them; which would win is not obvious.",
   "Config(\"cfg\", default=\"cfg.json\", default_value={})", "Keep one.")
_c("FC258", ERROR, "config_expr is not an expression",
   "The string given to config_expr(...) is not a Python expression.",
   "Metaflow evaluates it over the configs; flowc evaluates it statically, the same way.",
   "config_expr(\"cfg.a.\")", "Write an expression such as config_expr(\"cfg.a.b\").")
_c("FC259", ERROR, "environment variable not set",
   "With --resolve-env, `os.environ[\"X\"]` in a decorator argument reads a variable that is not "
   "set where flowc runs.", "Python would raise KeyError when the flow is imported.",
   "@environment(vars={\"X\": os.environ[\"X\"]})",
   "Set the variable, or use os.environ.get(\"X\", default) / os.getenv(\"X\", default).")
_c("FC260", ERROR, "config default file outside the flow's folder",
   "A Config's default= is an absolute path, starts with ~, or climbs out with '..'.",
   "The compiler reads a config's default file and publishes its value with the compiled workflow "
   "(resource requests, the code package): a flow under review could name a file of the machine "
   "that compiles it (as FC213 for IncludeFile).",
   "cfg = Config(\"cfg\", default=\"../../.aws/config.yaml\", parser=\"yaml.safe_load\")",
   "Put the file beside the flow, pass it with --config NAME PATH, or set allow_outside_files = true "
   "in [tool.flowc] if reading it is intended.")

# --- FC5xx: settings and command-line options -------------------------------------------------
_c("FC501", ERROR, "bad --with option",
   "A `--with NAME[:key=value,...]` option names a decorator that --with cannot attach, an "
   "argument that decorator does not have, or a value of the wrong type.",
   "--with attaches the decorator to every step without one; a typo would otherwise be dropped "
   "silently and the steps would run with other resources than asked for.",
   "flowc compile flow.py --with kubernetes:memroy=8000",
   "Use one of kubernetes, batch, retry, catch, timeout, environment, resources, followed by "
   "the decorator's own argument names (`flowc explain FC203` lists where they come from).")
_c("FC540", ERROR, "--config names no config of the flow",
   "`--config NAME PATH` or `--config-value NAME VALUE` names a Config the flow does not declare "
   "(NAME is the config's name, the first argument of Config(...)).",
   "A misspelt name would otherwise be ignored and the flow compiled with its default config.",
   "flowc compile flow.py --target argo --config cfgg prod.json",
   "Use a name the message lists.")
_c("FC541", ERROR, "config given both as a file and a value",
   "One config is given both with --config and with --config-value.",
   "Metaflow refuses it: which one applies would be ambiguous.",
   "--config cfg a.json --config-value cfg '{}'", "Give one of them.")

_c("FC530", ERROR, "bad run id",
   "`flowc run --run-id` was given an id with characters other than letters, digits, `.`, `_` "
   "and `-`, more than 128 characters, or `.` / `..`.",
   "The run id is a path segment of every datastore key; `/`, `.` or `..` would write outside "
   "the run's own folder (or over another run's).",
   "flowc run flow.py --run-id ../other",
   "Use an id such as `nightly-2024-05-01`, or leave --run-id out for a timestamped one.")
_c("FC531", ERROR, "run id already taken",
   "A run with this id exists in the datastore, or another `flowc run` claimed the id first.",
   "Two runs with one id would interleave their tasks and artifacts; the id is claimed "
   "atomically (O_EXCL on a file datastore, a conditional PUT `If-None-Match: *` on S3), so "
   "exactly one of two racing runs starts.",
   "flowc run flow.py --run-id r1   # twice",
   "Pick another --run-id, or leave it out; `flowc show Flow/r1` shows the existing run.")
_c("FC532", ERROR, "code package changed after it was stored",
   "The code package `flowc run` is about to execute does not have the sha256 it was stored "
   "under (`<Flow>/code/<sha256>.zip`).",
   "Someone or something edited the zip in the datastore; running it would run code that no "
   "`flowc run` built. Tasks import a private copy of the checked bytes.",
   "echo x >> .flowc/HelloFlow/code/<sha256>.zip; flowc run hello.py",
   "Delete the changed zip; the next `flowc run` stores the package again.")

# --- retired codes: no longer printed; kept so that an old log line can still be explained ----
_c("FC407", WARNING, "retired: @secrets on Step Functions",
   "Older flowc versions warned that Step Functions could not pass @secrets to a task.",
   "The runtime now reads @secrets inside the task on every target, so the warning is gone.",
   "", "Nothing to do: @secrets works on Step Functions.")
