"""How a task runs, shared by both targets, the runner, deploy and preflight.

- units.py       the one unit rule for cpu, memory and disk on every engine
- container.py   the task argv, the command prefix, the bootstrap and the code-package key
- kubernetes.py  pod and container builders, and the one kubeconfig loader
- batch.py       the one AWS Batch job-definition builder and the SubmitJob overrides
- aws.py         boto3 clients, code-package upload and job-definition registration

Nothing here imports a target, the runner or deploy; they import this. boto3 and kubernetes are
imported inside the functions that call them, so `flowc check`/`compile` never load them.
"""
