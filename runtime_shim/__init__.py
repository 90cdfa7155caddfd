"""flowc's runtime: runs one task of a flow inside a container (or locally under `flowc run`).

Pure stdlib, AWS included (awslite: SigV4 and the container credential chain; s3lite, batchlite,
secrets on it). boto3 is imported only when a credential source only it reads (a profile, a shared
credentials file) is configured and it is installed. Never imports `compiler`.
"""
