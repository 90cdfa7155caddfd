"""FC4xx: what the Step Functions + Batch target cannot express, registered at import."""
from __future__ import annotations

from compiler.diagnostics import codes as _codes
from compiler.diagnostics.codes import ERROR, WARNING, Code

# AWS limits this target checks before emitting anything.
MAX_DEFINITION_BYTES = 1024 * 1024          # state machine definition: 1 MB
MAX_STATE_MACHINE_NAME = 80
MAX_STATE_NAME = 80
MAX_JOB_DEFINITION_NAME = 128
MAX_CONTAINER_OVERRIDES = 8192               # SubmitJob containerOverrides, characters
MAX_SCHEDULE_NAME = 64
MAX_NESTING = 100          # Parallel/Map states inside each other (JSON nesting of the definition)

NO_DATASTORE = "FC401"
NO_EKS_CLUSTER = "FC402"
DEFINITION_TOO_LARGE = "FC403"
NAME_TOO_LONG = "FC404"
OVERRIDES_TOO_LARGE = "FC405"
SCHEDULE_NO_ROLE = "FC406"
# FC407 (retired): @secrets are read by the runtime inside the task on every target.
NO_BATCH_QUEUE = "FC408"
TRIGGERS_UNSUPPORTED = "FC409"
PATH_KEY = "FC410"
NESTED_TOO_DEEP = "FC411"
BAD_SCHEDULE = "FC412"
PARALLEL_REFUSED = "FC413"
EXIT_HOOK_ON_EKS = "FC414"

_ALL = (
    Code(NO_DATASTORE, ERROR, "Step Functions needs an S3 datastore",
         "The datastore setting is not an s3:// URI.",
         "Every Batch task reads and writes artifacts in the datastore, and the state machine reads "
         "foreach.json / switch.json from S3; a local path cannot be reached from AWS.",
         "flowc compile flow.py --target stepfunctions      # no FLOWC_DATASTORE set",
         "Set FLOWC_DATASTORE=s3://bucket/prefix (or `datastore` in [tool.flowc], or --datastore)."),
    Code(NO_EKS_CLUSTER, ERROR, "@kubernetes step without an EKS cluster",
         "A step pinned to Kubernetes runs on EKS through eks:runJob.sync, and no cluster is set.",
         "flowc never runs a @kubernetes step silently as a Batch job with other resources.",
         "@kubernetes(cpu=8)\n@step\ndef train(self): ...",
         "Set FLOWC_EKS_CLUSTER=<cluster name> (or `eks_cluster` in [tool.flowc]), or use @batch on the step."),
    Code(DEFINITION_TOO_LARGE, ERROR, "state machine definition too large",
         "The compiled definition exceeds Step Functions' 1 MB limit.",
         "CreateStateMachine would reject it.", "",
         "Split the flow, or move large constants (e.g. @environment values) out of decorators."),
    Code(NAME_TOO_LONG, ERROR, "name exceeds an AWS limit",
         "A state machine (80), state (80), job definition (128) or schedule (64) name is too long.",
         "AWS rejects the deployment.", "",
         "Shorten the flow, @project or step name named in the message."),
    Code(OVERRIDES_TOO_LARGE, ERROR, "Batch container overrides too large",
         "A step's SubmitJob container overrides may exceed Batch's 8,192-character limit.",
         "Batch rejects the job at run time.", "@environment(vars={...very large...})",
         "Move large values out of @environment (into an artifact or a file in the code package)."),
    Code(SCHEDULE_NO_ROLE, WARNING, "schedule without a role",
         "@schedule compiles to an EventBridge Scheduler schedule, whose target needs a role.",
         "Without sfn_role_arn the schedule's RoleArn and the state machine's account are placeholders.",
         "", "Set FLOWC_SFN_ROLE_ARN=arn:aws:iam::<account>:role/<role>."),
    Code(NO_BATCH_QUEUE, WARNING, "no AWS Batch job queue",
         "A step has no @batch(queue=...) and the batch_queue setting is unset.",
         "The definition names a placeholder queue `flowc-default-queue`.", "",
         "Set FLOWC_BATCH_QUEUE=<queue> or @batch(queue=...)."),
    Code(TRIGGERS_UNSUPPORTED, ERROR, "several trigger events cannot start a state machine",
         "@trigger(events=[...]) with more than one event, @trigger_on_finish(flows=[...]) with more "
         "than one flow, or both decorators: the flow starts only when ALL of them have arrived. One "
         "event and one flow compile to EventBridge rules (eventbridge.py).",
         "An EventBridge rule matches one event at a time and keeps no state, so an AND over "
         "several events has no rule; one rule per event would start the flow once per event.",
         "@trigger(events=['features.ready', 'labels.ready'])",
         "Publish one event when both are ready (or deploy the flow on Argo, whose Sensor waits for "
         "all of them)."),
    Code(NESTED_TOO_DEEP, ERROR, "splits nested too deep for a state machine",
         "Static splits and foreaches are nested more than 100 levels deep.",
         "Each level is a Parallel or Map state holding the next one, so the definition's JSON nests "
         "about five objects deeper per level; past 100 levels no JSON encoder or AWS console handles it well.",
         "", "Flatten the nesting: a split can have many branches at one level, and a chain of splits "
         "one after another costs no depth."),
    Code(BAD_SCHEDULE, ERROR, "schedule EventBridge cannot take",
         "@schedule's cron is not five valid cron fields (minute hour day-of-month month day-of-week), "
         "or its timezone is not an IANA name.",
         "The EventBridge Scheduler expression is built from the five fields; anything else would be "
         "refused at deploy time, or run at times nobody asked for.",
         "@schedule(cron=\"99 * * * *\", timezone=\"Mars/Olympus\")",
         "Write five fields such as \"0 6 * * 1-5\" and a timezone such as \"Europe/Berlin\"."),
    Code(PATH_KEY, ERROR, "name ends with `.$`, which Step Functions reads as a path",
         "A parameter name, or a label, annotation or node selector key of a @kubernetes step, ends "
         "with `.$`. These names are JSON keys inside the state machine's `Parameters`, where a key "
         "ending with `.$` makes Step Functions evaluate the value as a JSONPath or intrinsic "
         "function instead of carrying it as text (and drops the `.$` from the name).",
         "A default such as \"$$.Execution.Input\" would be replaced by the execution's input.",
         "x = Parameter(\"limit.$\", default=\"$.run\")",
         "Rename it so that it does not end with `.$`."),
    Code(PARALLEL_REFUSED, ERROR, "@parallel is not compiled for Step Functions",
         "A step is started with num_parallel (a @parallel gang). flowc does not emit AWS Batch "
         "multi-node jobs, and running the gang as independent jobs would break what @parallel "
         "promises (the nodes see each other, current.parallel.main_ip).",
         "A distributed-training step would start N unconnected single-node jobs, without a word.",
         "self.next(self.train, num_parallel=4)",
         "Compile for Argo (which warns, FC312), or run the step as a foreach."),
    Code(EXIT_HOOK_ON_EKS, ERROR, "@exit_hook with a @kubernetes end step on Step Functions",
         "Exit hooks run as a Batch job with the end step's job definition; the end step runs on "
         "EKS, so there is none.", "The hook job would have no definition to run with.",
         "@exit_hook(on_error=[notify]) ... @kubernetes @step def end(self): ...",
         "Run the end step on Batch (remove @kubernetes from it), or compile for Argo."),
)

for _code in _ALL:
    _codes.register(_code)
