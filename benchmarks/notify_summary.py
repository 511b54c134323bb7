#!/usr/bin/env python3
"""Medians and ranges of `pvwire-bench notify` RESULT lines (benchmarks/notify.sh).

    notify_summary.py RESULTS-FILE...

Groups the runs by appendfsync mode, measurement, K and transport; several files (batches)
are pooled. Then, because the machine's speed (and its disk's fsync time) drifts between runs,
the paired ratios stream / pubsub of runs that ran next to each other (same file, same round)."""
import collections
import statistics
import sys

PAIRED = ['p50_us', 'p99_us', 'ack_p50_us', 'writes_per_s', 'changes_per_s']
SKIP = {'kind', 'fsync', 'transport', 'measure', 'run', 'k', 'ops', 'inflight', 'channels', 'leaves'}


def main(paths):
    groups = collections.OrderedDict()
    rounds = collections.OrderedDict()  # (fsync, measure, k) -> {(file, run): {transport: kv}}
    for path in paths:
        for line in open(path):
            if not line.startswith('RESULT kind=notify '):
                continue
            kv = dict(f.split('=', 1) for f in line.split()[1:])
            k = kv.get('k', kv.get('channels', ''))  # catch-up: K writes; snapshot: channels
            key = (kv['fsync'], kv['measure'], k, kv['transport'])
            groups.setdefault(key, []).append(kv)
            cell = rounds.setdefault((kv['fsync'], kv['measure'], k), {})
            cell.setdefault((path, kv['run']), {})[kv['transport']] = kv
    for (fsync, measure, k, transport), runs in groups.items():
        cells = []
        for name in runs[0]:
            if name in SKIP:
                continue
            vals = [float(r[name]) for r in runs]
            cells.append(f"{name}={statistics.median(vals):g} ({min(vals):g}..{max(vals):g})")
        size = ('channels=' if measure == 'snapshot' else 'k=') + k if k else ''
        label = ' '.join(x for x in (fsync, measure, size, transport, f"n={len(runs)}") if x)
        print(f"{label}: " + ' '.join(cells))
    print("== stream / pubsub, paired by round: median (min..max)")
    for (fsync, measure, k), pairs in rounds.items():
        cells = []
        for name in PAIRED:
            ratios = [p['stream'][name] and float(p['stream'][name]) / float(p['pubsub'][name])
                      for p in pairs.values() if 'stream' in p and 'pubsub' in p and name in p['pubsub']]
            if ratios:
                cells.append(f"{name}={statistics.median(ratios):.2f} ({min(ratios):.2f}..{max(ratios):.2f})")
        if cells:
            print(f"{fsync} {measure}{' k=' + k if k else ''} n={len(pairs)}: " + ' '.join(cells))


if __name__ == '__main__':
    main(sys.argv[1:])
