"""`headless-commerce cost [-c key=value ...] [--cdk-out DIR] [--format text|markdown] [--details]`.

Synthesizes the reference app the way `make synth` does (the same `app_builder.build`, in a
child process per profile, both at once) into a temporary directory, then prices the templates.
Without `-c profile=...` it prices dev and prod. Prod refuses to synthesize without zone names,
the storefront origin and an SES sender; none of them changes the price, so placeholders stand
in for the ones not given. `--cdk-out DIR` prices an assembly already synthesized instead.

Exit codes: 0 printed, 2 bad context or arguments (the same messages as `make synth`),
1 synthesis failed or a resource type is missing from the price table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# Settings prod requires that change no price (README "Deploy to a new account").
PROD_PLACEHOLDERS = {"storefront_origin": "https://shop.example.com", "email_from": "no-reply@shop.example.com"}
PROFILES = ("dev", "prod")


def add_parser(commands) -> None:
    cost = commands.add_parser(
        "cost", help="estimated monthly idle cost per stack, resource type and capability",
        description="Synthesize the reference app with the given context and price every resource from "
                    "AWS list prices (us-east-1, table in headless_commerce/cost/prices.json). Without "
                    "-c profile=NAME both dev and prod are priced.")
    cost.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE",
                      help="CDK context, as for `cdk synth` (repeatable): -c profile=prod -c search=false")
    cost.add_argument("--cdk-out", metavar="DIR", help="price this synthesized cloud assembly instead")
    cost.add_argument("--format", choices=("text", "markdown"), default="text",
                      help="text (default) or the README's markdown table")
    cost.add_argument("--details", action="store_true", help="also list every charge with its arithmetic")
    cost.add_argument("--readme", metavar="FILE",
                      help="write the markdown table between the cost-table markers of FILE instead of printing")


def _context(pairs: list[str]) -> dict[str, str]:
    context = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"-c takes KEY=VALUE, got {pair!r}")
        context[key.strip()] = value.strip()
    return context


def contexts_for(context: dict[str, str]) -> dict[str, dict[str, str]]:
    """The synth context per priced profile: the one asked for, or dev and prod."""
    profiles = [context["profile"]] if "profile" in context else list(PROFILES)
    result = {}
    for profile in profiles:
        ctx = {**context, "profile": profile}
        if profile == "prod":
            region = ctx.get("region") or "us-east-1"
            ctx.setdefault("availability_zones", ",".join(f"{region}{z}" for z in "abc"))
            for key, value in PROD_PLACEHOLDERS.items():
                ctx.setdefault(key, value)
        result[profile] = ctx
    return result


def _label(profile: str, asked: dict[str, str]) -> str:
    flags = " ".join(f"-c {k}={v}" for k, v in sorted(asked.items()) if k != "profile")
    return f"{profile} {flags}".strip()


def _synth_command(outdir: str, context: dict[str, str]) -> list[str]:
    code = ("import json, sys; from headless_commerce.app_builder import build; "
            "build(json.loads(sys.argv[2]), outdir=sys.argv[1]).app.synth()")
    import json

    return [sys.executable, "-c", code, outdir, json.dumps(context)]


def run(args: argparse.Namespace) -> int:
    from . import estimate_assembly, render_markdown, render_text
    from .pricing import UnpricedResource

    try:
        asked = _context(args.context)
    except ValueError as problem:
        return _error(str(problem))
    try:
        if args.cdk_out:
            if not (Path(args.cdk_out) / "manifest.json").exists():
                return _error(f"--cdk-out {args.cdk_out}: no manifest.json (run `make synth` first)")
            estimates = [estimate_assembly(args.cdk_out, str(args.cdk_out))]
        else:
            contexts = contexts_for(asked)
            checked = _check(contexts)
            if checked:
                return _error(checked)
            with tempfile.TemporaryDirectory(prefix="hc-cost-") as tmp:
                outdirs = {profile: os.path.join(tmp, profile) for profile in contexts}
                env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
                children = {profile: subprocess.Popen(_synth_command(outdirs[profile], ctx), env=env,
                                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                            for profile, ctx in contexts.items()}
                failed = {p: child.communicate()[1] for p, child in children.items()}
                failed = {p: err for p, err in failed.items() if children[p].returncode != 0}
                if failed:
                    for profile, err in failed.items():
                        print(f"error: synthesizing {profile} failed:\n{err.strip()[-4000:]}", file=sys.stderr)
                    return 1
                estimates = [estimate_assembly(outdirs[p], _label(p, asked)) for p in contexts]
    except UnpricedResource as problem:
        print(f"error: {problem}", file=sys.stderr, flush=True)
        return 1
    if args.readme:
        try:
            replace_table(Path(args.readme), render_markdown(estimates))
        except (OSError, ValueError) as problem:
            return _error(f"--readme {args.readme}: {problem}")
        print(f"updated the cost table in {args.readme}", flush=True)
        return 0
    print(render_markdown(estimates) if args.format == "markdown" else render_text(estimates, details=args.details),
          end="", flush=True)
    return 0


TABLE_START, TABLE_END = "<!-- cost-table:start -->\n", "<!-- cost-table:end -->"


def replace_table(path: Path, table: str) -> None:
    text = path.read_text()
    start, end = text.find(TABLE_START), text.find(TABLE_END)
    if start < 0 or end < start:
        raise ValueError(f"no {TABLE_START.strip()} ... {TABLE_END} block")
    path.write_text(text[:start + len(TABLE_START)] + table + text[end:])


def _check(contexts: dict[str, dict[str, str]]) -> str | None:
    """Validate every context before a minute of synthesis: the messages `make synth` prints."""
    from headless_commerce.app_builder import cdk_json_context
    from headless_commerce.config import ConfigError, from_context

    for ctx in contexts.values():
        try:
            from_context({**cdk_json_context(), **ctx})
        except ConfigError as problem:
            return str(problem)
    return None


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    return 2
