"""Executors run a recipe's plan over shards: locally in worker processes (default)."""

from datasteward.executors.local import LocalExecutor, RunOptions, RunResult
from datasteward.executors.plan import Plan, build_plan

__all__ = ["LocalExecutor", "Plan", "RunOptions", "RunResult", "build_plan"]
