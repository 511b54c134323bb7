import json, glob, statistics, sys
def load(prefix):
    runs = {}
    for f in sorted(glob.glob(f'codec_bench_json/{prefix}_*.json')):
        for b in json.load(open(f))['benchmarks']:
            if b.get('run_type') == 'aggregate': continue
            runs.setdefault(b['name'], []).append(b['real_time'] if b['time_unit']=='ns' else b['real_time']*{'us':1e3,'ms':1e6}[b['time_unit']])
    return runs
old, new = load('old'), load('new')
def med(v): return statistics.median(v)
def fmt(ns):
    return f'{ns/1e6:.2f} ms' if ns >= 1e6 else f'{ns/1e3:.2f} µs' if ns >= 1e4 else f'{ns:.1f} ns'
print(f'runs: old {len(next(iter(old.values())))}, new {len(next(iter(new.values())))}')
print('\n### old (32f14c6) vs new, every case both binaries have (median real time)\n')
print('| case | old | new | new/old |')
print('|---|---:|---:|---:|')
worst = []
for name in old:
    if name not in new or name.startswith('Memcpy'): continue
    o, n = med(old[name]), med(new[name])
    r = n / o
    worst.append((r, name))
    print(f'| {name} | {fmt(o)} | {fmt(n)} | {r:.3f} |')
print('\n### typed vs variant in the new build (and the old variant)\n')
print('| message | order | op | old variant | new variant | new typed | typed/old variant | typed/new variant |')
print('|---|---|---|---:|---:|---:|---:|---:|')
for name in new:
    if not name.startswith('Hot/') or 'Typed' not in name: continue
    _, msg, order, case = name.split('/')
    op = case.replace('Typed', '')
    vname = f'Hot/{msg}/{order}/Variant{op}'
    ov, nv, nt = med(old[vname]), med(new[vname]), med(new[name])
    print(f'| {msg} | {order} | {op} | {fmt(ov)} | {fmt(nv)} | {fmt(nt)} | {nt/ov:.3f} | {nt/nv:.3f} |')
worst.sort(reverse=True)
print('\nslowest ratios:', [(round(r,3), n) for r, n in worst[:6]])
# spread: min/max per old case to judge noise
print('\nspread (max/min over runs) of the worst ones:')
for r, n in worst[:6]:
    print(n, 'old', round(max(old[n])/min(old[n]),3), 'new', round(max(new[n])/min(new[n]),3))
