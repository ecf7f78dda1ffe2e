"""Pulumi entry point: `pulumi up -s <stack>` runs this. The program lives in stacks/program.py."""

from stacks.program import main

main()
