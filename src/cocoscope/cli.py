"""The command line: parse arguments, call one function, render, exit. Nothing else lives here.

Each command group registers itself from ``cocoscope.commands.<name>`` so that work on one
command never touches another's module.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from cocoscope import __version__
from cocoscope.commands import audit, cache, fragment, model, rules, snp, surface, tdx
from cocoscope.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, CocoscopeError

EPILOG = """exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage error,
3 bad input, 4 verification failure, 70 internal error (a bug)"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cocoscope",
        description="Audit a Linux confidential-computing guest against the Linux CoCo threat model.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"cocoscope {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    audit.register(sub)
    model.register(sub)
    rules.register(sub)
    fragment.register(sub)
    surface.register(sub)
    cache.register(sub)
    attest = sub.add_parser("attest", help="verify attestation evidence (SNP report, TDX quote)")
    attest_sub = attest.add_subparsers(dest="platform", metavar="PLATFORM", required=True)
    measure = sub.add_parser("measure", help="compute expected launch measurements")
    measure_sub = measure.add_subparsers(dest="platform", metavar="PLATFORM", required=True)
    snp.register_attest(attest_sub)
    snp.register_measure(measure_sub)
    tdx.register_attest(attest_sub)
    tdx.register_measure(measure_sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except CocoscopeError as exc:
        if args.debug:
            raise
        print(f"cocoscope: error: {exc.render()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except MemoryError:
        print("cocoscope: error: out of memory reading input", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # a bug: say so plainly, without a traceback unless --debug
        if args.debug:
            raise
        print(f"cocoscope: internal error: {type(exc).__name__}: {exc} "
              "(a bug; rerun with --debug for a traceback)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
