"""The limit of item 2: a workflow with the shape of one registration — the same activities and
timers, in the same order, the timers as long — whose activities do nothing. It costs exactly
what Temporal itself costs for that many steps; the registration's extra cost is ours."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

NOOP_WORKFLOW = "BenchNoop"


@activity.defn(name="bench_noop")
async def noop() -> None:
    return None


@workflow.defn(name=NOOP_WORKFLOW)
class NoopWorkflow:
    @workflow.run
    async def run(self, steps: list[float]) -> int:
        """``steps``: 0 = one no-op activity; > 0 = a timer of that many seconds."""
        for step in steps:
            if step > 0:
                await workflow.sleep(step)
            else:
                await workflow.execute_activity(noop, start_to_close_timeout=timedelta(seconds=30))
        return len(steps)
