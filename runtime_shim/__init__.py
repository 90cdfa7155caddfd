"""flowc's runtime: runs one task of a flow inside a container (or locally under `flowc run`).

Pure stdlib (boto3 is imported lazily for s3:// roots); never imports `compiler`.
"""
