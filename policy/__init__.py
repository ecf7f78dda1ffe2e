"""The policy pack: rules in rules.py (plain Python), run by `pulumi preview --policy-pack policy` (__main__.py)
and over the offline render by `make policy` (mlserve/policy_check.py)."""
