"""`python -m runtime_shim task ...`: run one task (see docs/runtime-contract.md)."""
import sys


def _main(argv):
    if argv and argv[0] == "batch-submit":  # Argo @batch steps (runtime_shim/batch_submit.py)
        from runtime_shim.batch_submit import main as batch_submit

        return batch_submit(argv[1:])
    if argv and argv[0] == "hook":  # @exit_hook functions after a run (runtime_shim/hook.py)
        from runtime_shim.hook import main as hook

        return hook(argv[1:])
    if not argv or argv[0] != "task":
        sys.stderr.write("usage: python -m runtime_shim task --datastore URI --run-id ID "
                         "--step NAME [--index-path 1,2] [--iteration K] [--attempt N] "
                         "[--params-json JSON | --params-file PATH | --param NAME=VALUE ... "
                         "| --param-b64 NAME=BASE64 ...] [--output-dir DIR] "
                         "[--spec PATH]\n")
        return 2
    from runtime_shim.task import main

    return main(argv[1:])


if __name__ == "__main__":
    code = _main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)
