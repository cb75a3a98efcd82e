"""The report of bench/ratings.py: latency percentiles, throughput, counts, CPU."""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import Any

from ratings_load import Load, ResultsWatcher


# ---------------------------------------------------------------------------- report
def percentile(sorted_values: list[float], p: float) -> float | None:
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100.0 * len(sorted_values)) - 1))
    return sorted_values[k]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000.0, 1)


def summarise(load: Load, watcher: ResultsWatcher, baseline: int, caught_up_at: float | None,
              drain_deadline_hit: bool, cpu: dict[str, Any] | None) -> dict[str, Any]:
    samples = load.samples
    accepted = [s for s in samples if s.status == "201"]
    errors: dict[str, int] = {}
    for s in samples:
        if s.status not in ("201", "200"):
            errors[s.status] = errors.get(s.status, 0) + 1
    unchanged = sum(1 for s in samples if s.status == "200")
    ok_samples = [s for s in samples if s.status in ("201", "200")]
    latency = sorted(s.done - s.due for s in ok_samples)
    service = sorted(s.done - s.sent for s in ok_samples)
    all_latency = sorted(s.done - s.due for s in samples)
    last_done = max((s.done for s in samples), default=load.t0)
    elapsed = max(load.duration, last_done - load.t0)
    last_accept = max((s.done for s in accepted), default=None)

    expected = baseline + len(accepted)
    final = watcher.latest()
    peak = max((c for _, c in watcher.points), default=None)
    accept_times = sorted(s.done for s in accepted)
    max_behind = 0
    for t, c in watcher.points:
        done_by_then = bisect_right(accept_times, t)
        max_behind = max(max_behind, done_by_then - (c - baseline))

    if cpu and accepted:
        per = {k: round(1000.0 * v / len(accepted), 2) for k, v in cpu["cpu_seconds"].items()}
        network_ms = sum(v for k, v in per.items() if not k.startswith("bench"))
        cpu = cpu | {
            # CPU the services and the broker spent per accepted rating during the load
            # (a little of it is the results polling); robust against other work on the host.
            "cpu_ms_per_rating": per,
            "network_cpu_ms_per_rating": round(network_ms, 2),
            "ceiling_per_s_on_all_cores": round(cpu["cores"] * 1000.0 / network_ms, 1)
            if network_ms else None,
        }
    return {
        "offered_rate": load.rate,
        "duration_s": load.duration,
        "concurrency": load.concurrency,
        "towns": [t for t, _ in load.targets],
        "scheduled": load.scheduled,
        "sent": len(samples),
        "missed": load.scheduled - len(samples),
        "accepted_new": len(accepted),
        "accepted_unchanged": unchanged,
        "accepted_per_s": round(len(accepted) / elapsed, 1) if elapsed > 0 else None,
        "send_phase_s": round(elapsed, 2),
        "errors": dict(sorted(errors.items())),
        "latency_ms": {f"p{p}": ms(percentile(latency, p)) for p in (50, 95, 99)}
        | {"max": ms(latency[-1] if latency else None)},
        "latency_all_requests_ms": {f"p{p}": ms(percentile(all_latency, p)) for p in (50, 95, 99)},
        "service_time_ms": {f"p{p}": ms(percentile(service, p)) for p in (50, 95, 99)}
        | {"max": ms(service[-1] if service else None)},
        "send_lateness_ms": {"p99": ms(percentile(sorted(s.sent - s.due for s in samples), 99))},
        "results": {
            "baseline": baseline,
            "expected_growth": len(accepted),
            "counted_growth": None if final is None else final - baseline,
            "peak_growth": None if peak is None else peak - baseline,
            "overshoot": None if peak is None else max(0, peak - expected),
            "caught_up": caught_up_at is not None,
            "catch_up_s": None if caught_up_at is None or last_accept is None
            else round(caught_up_at - last_accept, 2),
            "drain_deadline_hit": drain_deadline_hit,
            "max_ratings_behind_during_run": max_behind,
            "polls": len(watcher.points),
            "poll_errors": watcher.errors,
        },
        "cpu": cpu,
    }


def human(s: dict[str, Any]) -> str:
    def fmt(d: dict[str, float | None]) -> str:
        return "  ".join(f"{k} {'-' if v is None else f'{v:.1f}'}" for k, v in d.items())

    errors = ", ".join(f"{k}: {v}" for k, v in s["errors"].items())
    lines = [
        f"offered {s['offered_rate']:g}/s for {s['duration_s']:g} s "
        f"({s['concurrency']} connections, {len(s['towns'])} towns): "
        f"{s['sent']} sent, {s['accepted_new']} accepted ({s['accepted_per_s']}/s), "
        f"errors {{{errors}}}"
        + (f", {s['missed']} missed (no free connection before the end)" if s["missed"] else "")
        + (f", {s['accepted_unchanged']} unchanged (200)" if s["accepted_unchanged"] else ""),
        f"latency ms: {fmt(s['latency_ms'])}   (service time {fmt(s['service_time_ms'])})",
    ]
    r = s["results"]
    counted = r["counted_growth"]
    if r["caught_up"]:
        lines.append(
            f"regional results caught up {r['catch_up_s']:.2f} s after the last accepted rating; "
            f"counted {counted} (expected {r['expected_growth']}); "
            f"at most {r['max_ratings_behind_during_run']} ratings behind during the run"
        )
    else:
        lines.append(
            f"regional results did NOT catch up within the drain deadline: counted {counted} "
            f"(expected {r['expected_growth']})"
        )
    if r["overshoot"]:
        lines.append(f"OVERSHOOT: results counted {r['overshoot']} more than accepted "
                     f"(peak growth {r['peak_growth']}) - double counting")
    if r["poll_errors"]:
        lines.append(f"results poll errors: {r['poll_errors']}")
    cpu = s.get("cpu")
    if cpu:
        top = ", ".join(f"{k} {v:.0f}%" for k, v in list(cpu["average_percent"].items())[:6])
        top += f"; everything else on the machine {cpu['others_percent']:.0f}%"
        peaks = ", ".join(f"{k} {v:.0f}%" for k, v in list(cpu["peak_percent"].items())[:3])
        lines.append(f"cpu during load ({cpu['cores']} cores, host "
                     f"{cpu['host_busy_percent']}% busy, "
                     f"{cpu['host_busy_percent_before_load']}% before): {top}; "
                     f"1 s peaks: {peaks}")
        if cpu.get("network_cpu_ms_per_rating"):
            per = ", ".join(f"{k} {v:.1f}" for k, v in list(cpu["cpu_ms_per_rating"].items())[:5])
            lines.append(
                f"cpu per accepted rating: {cpu['network_cpu_ms_per_rating']:.1f} ms in services "
                f"+ broker ({per}); so at most ~{cpu['ceiling_per_s_on_all_cores']:.0f}/s "
                f"if they had all {cpu['cores']} cores to themselves")
    return "\n".join(lines)
