"""The export benchmark's figures: the table rows, the physical bound and the CPU per expense."""

import os


def row(label: str, run: dict, n: int, bound: float | None) -> str:
    throughput = run["exported"] / run["wall"] if run["wall"] else 0.0
    ratio = f"{throughput / bound:5.2f}" if bound else "   - "
    bound_s = f"{bound:7.1f}" if bound else "      -"
    return (f"{label:<26} {n:>6} {run['wall']:>8.2f} {run['calls'] / max(1, run['exported']):>10.3f} "
            f"{throughput:>10.1f} {bound_s} {ratio}")


HEADER = (f"{'run':<26} {'exp.':>6} {'wall s':>8} {'calls/exp':>10} {'exp/s':>10} {'bound':>7} {'ratio':>5}")


def cpu_line(run: dict) -> str:
    """The bound the physical one leaves out: CPU per exported expense, per component (the workers
    from "go" on, this database's PostgreSQL backends, the sandbox), SQL statements per record,
    and the throughput the machine's cores would cap at."""
    n = max(1, run["exported"])
    per = {name: seconds / n for name, seconds in run["cpu"].items()}
    total, cores = sum(per.values()), os.cpu_count() or 1
    parts = " · ".join(f"{name} {ms * 1000:.1f} ms" for name, ms in per.items())
    cap = f"; {cores} cores cap throughput at about {cores / total:.0f}/s" if total else ""
    return (f"CPU per exported expense: {parts} (total {total * 1000:.1f} ms); "
            f"SQL statements per record (workers) {run['sql'] / n:.1f}{cap}")


def cpu_cap(run: dict) -> float:
    """The throughput the machine's cores cap this run at: cores / CPU per exported expense."""
    total = sum(run["cpu"].values()) / max(1, run["exported"])
    return (os.cpu_count() or 1) / total if total else float("inf")


def batched_bound(system, *, rate: float, workers: int, latency_ms: int, run: dict) -> tuple[float, str]:
    """The bound when many documents go in one call (the connector's `push_many_limit`): k is the
    fewest calls per expense divided by the documents one call takes, so R/k and W/(k*L) are far
    away and the cores bind first: min(R/k, W/(k*L), cores / CPU per expense), with its formula."""
    from connectors.base import connector_class

    per_call = connector_class(system.name).push_many_limit
    if per_call <= 1:
        k = system.min_calls
        return bound_for(rate, workers, latency_ms, k), (f"R/{k}, W/({k}L)" if k > 1 else "R, W/L")
    k = system.min_calls / per_call
    by_requests, cap = bound_for(rate, workers, latency_ms, k), cpu_cap(run)
    by_rate = rate / k if rate else float("inf")
    by_latency = workers / (k * latency_ms / 1000) if latency_ms else float("inf")
    return (min(by_requests, cap),
            f"R/k = {by_rate:.0f}/s, W/(kL) = {by_latency:.0f}/s, "
            f"CPU cap {cap:.0f}/s; k = {system.min_calls}/{per_call} = {k:.3f}: {per_call} documents per call")


def bound_for(rate: float, workers: int, latency_ms: int, calls: float = 1) -> float:
    """min(R/k, W/(k*L)): the request budget and the latency of k calls, whichever binds first."""
    by_latency = workers / (calls * latency_ms / 1000) if latency_ms else float("inf")
    return min(rate / calls, by_latency) if rate else by_latency
