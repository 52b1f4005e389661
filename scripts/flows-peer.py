#!/usr/bin/env python3
"""The peer of scripts/bench-flows: the same flow stitching written plainly in
Python 3 (standard library only), over the same files: steps keyed by
correlation id, else by user, client and IP, or IP, with the same ten-minute
gap, never joining another user's or client's flow. It does not classify
steps or name failures, so it does less than oncall. Prints events/s of
parsing and of stitching, and peak RSS."""
import json, os, re, resource, sys, time
from datetime import datetime

ACCESS = re.compile(r'^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+)[^"]*" (\d{3}) .*?rid=(\S+)')
GAP = 600.0

def parse_iso(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

def steps_of(path):
    for line in open(path, encoding="utf-8", errors="replace"):
        if line.startswith("{"):
            event = json.loads(line)
            if "eventType" in event:
                yield (parse_iso(event["published"]), (event.get("actor") or {}).get("alternateId"),
                       (event.get("client") or {}).get("ipAddress"),
                       ((event.get("debugContext") or {}).get("debugData") or {}).get("clientId"),
                       (event.get("transaction") or {}).get("id"))
            elif "log_id" in event:
                yield (parse_iso(event["date"]), event.get("user_name"), event.get("ip"), event.get("client_id"), None)
            else:
                yield (parse_iso(event["ts"]), None, event.get("ip"), event.get("client_id"), None)
        else:
            match = ACCESS.match(line)
            if match:
                ts = datetime.strptime(match.group(2), "%d/%b/%Y:%H:%M:%S %z").timestamp()
                yield (ts, None, match.group(1), None, match.group(6))

def stitch(steps):
    steps.sort(key=lambda s: s[0])
    flows, owners, by_trace, by_actor = [], [], {}, {}

    def admits(index, user, client):
        owner_user, owner_client = owners[index]
        return not (user and owner_user and user != owner_user) and not (client and owner_client and client != owner_client)

    for ts, user, ip, client, trace in steps:
        keys = ([f"user:{user}"] if user else []) + ([f"ci:{client}:{ip}"] if client and ip else []) + ([f"ip:{ip}"] if ip else [])
        index = by_trace.get(trace) if trace else None
        if index is None:
            for key in keys:
                candidate = by_actor.get(key)
                if candidate is not None and ts - flows[candidate][-1][0] <= GAP and admits(candidate, user, client):
                    index = candidate
                    break
        if index is None:
            flows.append([])
            owners.append([None, None])
            index = len(flows) - 1
        flows[index].append((ts, user, ip, client, trace))
        owners[index][0] = owners[index][0] or user
        owners[index][1] = owners[index][1] or client
        if trace:
            by_trace[trace] = index
        for key in keys:
            by_actor[key] = index
    return flows

def main():
    root = sys.argv[1]
    started = time.perf_counter()
    steps = []
    for folder, _, files in os.walk(root):
        for name in sorted(files):
            steps.extend(steps_of(os.path.join(folder, name)))
    read = time.perf_counter() - started
    started = time.perf_counter()
    flows = stitch(steps)
    stitched = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"events                 {len(steps)}")
    print(f"read and parse         {read:.2f} s  {len(steps) / read:.0f} events/s")
    print(f"stitch                 {stitched:.2f} s  {len(steps) / stitched:.0f} events/s  ({len(flows)} flows)")
    print(f"peak RSS               {peak:.0f} MB")

main()
