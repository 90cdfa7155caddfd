"""FC3xx: what the Argo target cannot express. Registered in the shared registry at import."""
from __future__ import annotations

from compiler.diagnostics.codes import ERROR, WARNING, Code, register

PACKAGE_TOO_LARGE = "FC301"
BAD_LABEL = "FC302"
BAD_PARAMETER_NAME = "FC303"
NAMESPACE_IGNORED = "FC304"
UNSUPPORTED_SHAPE = "FC305"
BATCH_NO_QUEUE = "FC306"
NO_DATASTORE = "FC307"
RESERVED_PARAMETER = "FC308"
BAD_SCHEDULE = "FC309"
INCLUDE_FILE = "FC310"
TRIGGER_IGNORED = "FC311"       # retired: the Sensor is compiled (sensor.py)
PARALLEL_UNGANGED = "FC312"
TEMPLATE_TAG = "FC313"
UNSUBSTITUTABLE = "FC314"
BATCH_NEEDS_S3 = "FC315"        # was a second meaning of FC313
RECURSION_DEPTH = "FC316"
VALUE_TOO_LARGE = "FC317"
TRIGGER_NO_DATASTORE = "FC330"

_CODES: tuple[Code, ...] = (
    Code(PACKAGE_TOO_LARGE, ERROR, "code package too large for a ConfigMap",
         "The code package (flow file, local modules, included files, runtime) is larger than the "
         "1 MiB that Kubernetes allows in one ConfigMap.",
         "`flowc compile --target argo` embeds the package in a ConfigMap so that `kubectl apply` "
         "is enough on its own; Kubernetes refuses ConfigMaps over 1 MiB.",
         "package_include = [\"data/*.csv\"]  # 5 MB of data files",
         "Use `flowc deploy --target argo`, which stores the package in the datastore, or include "
         "fewer files in the package."),
    Code(BAD_LABEL, ERROR, "label, name or annotation not valid in Kubernetes",
         "A label, annotation, node selector, secret or service account name, or environment "
         "variable name breaks the Kubernetes rules: label keys are `[prefix/]name` with a name of at "
         "most 63 characters of [A-Za-z0-9-_.]; "
         "label values are at most 63 such characters, beginning and ending alphanumeric.",
         "The Kubernetes API server would refuse the pod at run time, after earlier steps ran.",
         "@kubernetes(labels={\"team\": \"data science\"})",
         "Use a value such as \"data-science\", or move free text to an annotation."),
    Code(BAD_PARAMETER_NAME, ERROR, "parameter name not valid in Argo",
         "Argo parameter names consist of letters, digits, '-' and '_' only.",
         "Parameters become Argo workflow arguments with the same name.",
         "x = Parameter(\"my param\")", "Rename the parameter, e.g. Parameter(\"my-param\")."),
    Code(NAMESPACE_IGNORED, WARNING, "per-step namespace ignored on Argo",
         "@kubernetes(namespace=...) names a namespace; Argo runs every pod of a workflow in the "
         "workflow's namespace.", "Argo cannot place one step's pod in another namespace.",
         "@kubernetes(namespace=\"ml-jobs\")",
         "Set the workflow namespace with the k8s_namespace setting instead."),
    Code(UNSUPPORTED_SHAPE, ERROR, "retired: graph shape not supported by the Argo target",
         "Older flowc versions refused a step that is both a case of a switch and reached from "
         "another step (Metaflow 2.19's conditional skip).",
         "The Argo target now runs it with `when`: the switch chose the step, or the other "
         "predecessor Succeeded; no longer printed.",
         "self.next({\"work\": self.work, \"skip\": self.end}, condition=\"route\")",
         "Nothing to do: the shape compiles and runs on Argo."),
    Code(BATCH_NO_QUEUE, WARNING, "@batch step without a job queue",
         "A @batch step on Argo is submitted to AWS Batch; it needs a job queue, from "
         "@batch(queue=...) or the batch_queue setting.",
         "The workflow names the placeholder queue `flowc-default-queue`, which a deploy's preflight "
         "refuses unless it exists; flowc never runs a @batch step as a pod with other resources.",
         "@batch(cpu=4)", "Pass queue=... or set batch_queue (FLOWC_BATCH_QUEUE)."),
    Code(NO_DATASTORE, WARNING, "no datastore configured",
         "No datastore setting: the workflow template gets a required argument `flowc-datastore` "
         "that each submission must provide.", "Every task reads and writes the datastore.",
         "flowc compile flow.py --target argo", "Set datastore (FLOWC_DATASTORE=s3://bucket/prefix)."),
    Code(RESERVED_PARAMETER, ERROR, "parameter name reserved by flowc on Argo",
         "Parameter names beginning with `flowc-` are used by the compiled workflow itself.",
         "The workflow argument would be ambiguous.", "x = Parameter(\"flowc-datastore\")",
         "Rename the parameter."),
    Code(BAD_SCHEDULE, ERROR, "schedule not valid for a CronWorkflow",
         "The cron expression of @schedule is one Argo's parser refuses, or its timezone is unknown. "
         "Argo validates schedules with robfig/cron v3 `ParseStandard` (workflow/validate/validate.go): "
         "five fields (minute 0-59, hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, weekday 0-6 "
         "or SUN-SAT) of `*`, `?`, numbers, names, ranges `a-b`, steps `/n` and lists, or a "
         "descriptor (@yearly @annually @monthly @weekly @daily @midnight @hourly, `@every 1h30m`). "
         "Quartz forms such as `L`, `W`, `#`, a seconds field or weekday 7 are not accepted.",
         "Argo refuses the CronWorkflow when it is created, after the WorkflowTemplate was deployed.",
         "@schedule(cron=\"0 6 L * *\")",
         "Write a standard five-field expression, e.g. \"0 6 28-31 * *\" and check the date in the step."),
    Code(INCLUDE_FILE, ERROR, "IncludeFile default cannot travel in the workflow",
         "The compiled workflow carries an IncludeFile's default content as a workflow argument; "
         "the file is missing, not text, or larger than 256 KiB.",
         "Argo parameters are text, and the whole WorkflowTemplate must fit in etcd (1.5 MiB).",
         "data = IncludeFile(\"data\", default=\"big.parquet\", is_text=False)",
         "Use `flowc deploy`, or give no default and pass the content when submitting."),
    Code(TRIGGER_IGNORED, WARNING, "retired: @trigger / @trigger_on_finish not compiled for Argo",
         "Older flowc versions compiled @trigger flows without their Sensor and warned.",
         "flowc now emits an Argo Events Sensor beside the WorkflowTemplate (sensor.py).",
         "@trigger(event=\"data_ready\")", "Nothing to do: the Sensor is compiled."),
    Code(PARALLEL_UNGANGED, WARNING, "num_parallel runs as independent pods on Argo",
         "self.next(..., num_parallel=N) starts N tasks like a foreach of N items; they are not "
         "gang-scheduled and get no control-node address.",
         "Metaflow's @parallel uses JobSets for multi-node jobs; the Argo target has no equivalent.",
         "self.next(self.train, num_parallel=4)",
         "Use a foreach when the tasks are independent; run multi-node training on a JobSet."),
    Code(TEMPLATE_TAG, ERROR, "value holds `{{`, which Argo would substitute",
         "An @environment value, image, annotation, toleration, volume path or Batch setting holds "
         "`{{`. Argo substitutes `{{...}}` tags in every string of a template, twice "
         "(workflow/common/util.go SubstituteParams) and once more in the pod "
         "(substitutePodParams), and has no escape, so the step would receive the workflow's name, "
         "another parameter's value, an evaluated `{{=...}}` expression, or fail to start.",
         "Values must reach the step byte-exact; flowc refuses rather than let Argo rewrite them.",
         "@environment(vars={\"GREETING\": \"{{workflow.name}}\"})",
         "Pass the text as a Parameter instead (flowc hands parameter values to the step base64-encoded "
         "by an expression Argo evaluates in its first pass, out of its reach), or leave out `{{`."),
    Code(UNSUBSTITUTABLE, ERROR, "parameter value is not UTF-8 text",
         "A parameter default (or an IncludeFile default's content) holds a lone surrogate: text "
         "decoded from bytes that are not UTF-8. Control characters, DEL and any Unicode text are "
         "fine: the start step receives every value base64-encoded (see FC313), so Argo never "
         "substitutes it as text.",
         "Kubernetes stores the workflow, and its arguments, as UTF-8 JSON: such a value cannot be "
         "stored or submitted.",
         "x = Parameter(\"x\", default=open(\"f\", errors=\"surrogateescape\").read())",
         "Pass text (decode the bytes properly), or base64-encode binary data and decode it in the step."),
)

_CODES += (
    Code(BATCH_NEEDS_S3, ERROR, "@batch step on Argo without an s3:// datastore",
         "A @batch step on Argo runs as an AWS Batch job, and the datastore is not an s3:// URL.",
         "The Batch job runs outside the cluster and can reach only S3, not a file:// path or a "
         "volume of the cluster.",
         "FLOWC_DATASTORE=file:///data flowc compile flow.py --target argo   # flow has @batch",
         "Use an s3:// datastore, or run the step as a pod (@kubernetes)."),
    Code(RECURSION_DEPTH, WARNING, "recursive switch has a bounded number of passes on Argo",
         "A step that switches back to itself is compiled as a DAG template that runs ten passes and "
         "then calls itself. Argo errors a workflow whose templates nest 100 deep "
         "(controller.go maxAllowedStackDepth, operator.go executeTemplate), so the loop can make "
         "the number of passes the message names (fewer inside foreach bodies), then the run fails "
         "with \"Maximum recursion depth exceeded\".",
         "Argo has no loop construct other than a template calling itself.",
         "self.next({\"again\": self.loop, \"done\": self.end}, condition=\"route\")",
         "Keep the number of passes under the limit, or loop inside the step."),
    Code(VALUE_TOO_LARGE, ERROR, "parameter default or IncludeFile too large to exec",
         "A parameter default (or an IncludeFile's content) becomes one argv entry of the start "
         "step, base64-encoded (4/3 of its size). Linux refuses to exec a single argv or environment "
         "string over 128 KiB (MAX_ARG_STRLEN, E2BIG \"Argument list too long\"); on Argo v3.5 the "
         "whole template, with every value, is also one environment variable (ARGO_TEMPLATE) of "
         "every container, so all values together must fit in it.",
         "The step would compile and then fail to start.",
         "data = IncludeFile(\"data\", default=\"big.csv\")   # 150 KiB",
         "Keep the file small (about 95 KiB at most), read the data from S3 in the step, or put the "
         "file in the code package (package_include) and open it by name."),
)

_CODES += (
    Code(TRIGGER_NO_DATASTORE, ERROR, "@trigger flow without a datastore setting",
         "The flow has @trigger or @trigger_on_finish and the datastore setting is unset.",
         "The Sensor creates Workflows with no flowc-datastore argument, so every run it starts "
         "would fail; as with @schedule, the WorkflowTemplate must carry the datastore.",
         "flowc compile flow.py --target argo   # @trigger(event='data_ready'), no FLOWC_DATASTORE",
         "Set FLOWC_DATASTORE=s3://bucket/prefix (or datastore in [tool.flowc])."),
)

for _code in _CODES:
    register(_code)
