#!/usr/bin/env python3
"""Reference app.

`npx aws-cdk@2 synth|deploy -c profile=prod` runs this file; so does
`CDK_OUTDIR=cdk.out python3 app.py -c profile=prod` (what `make synth` does, without the CLI).
"""

import itertools
import sys
from pathlib import Path

from headless_commerce.app_builder import build, write_openapi
from headless_commerce.config import ConfigError


def _context_args(argv: list[str]) -> dict[str, str]:
    pairs = [arg for flag, arg in itertools.pairwise(argv) if flag in ("-c", "--context")]
    if len(pairs) * 2 != len(argv) or any("=" not in p for p in pairs):
        raise ConfigError("usage: app.py [-c key=value ...]")
    return dict(p.split("=", 1) for p in pairs)


try:
    reference = build(_context_args(sys.argv[1:]))
except ConfigError as err:
    print(f"error: {err}", file=sys.stderr)
    sys.exit(2)
assembly = reference.app.synth()
# The same route table that built API Gateway documents it for client developers.
write_openapi(Path(assembly.directory) / "openapi.json")
