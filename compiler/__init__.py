"""flowc: compile Metaflow-API flow scripts to Argo Workflows and AWS Step Functions."""

__version__ = "0.1.0"
