#!/usr/bin/env python3
"""Side-by-side pvAccess benchmark runner: pvwire against another implementation.

Runs a matrix {pvwire server, other server} x {pvwire client, other client} for each scenario,
on one machine, over loopback only, and reports medians, ratios, CSV files and PNG charts.
Python 3.11 standard library only. Run `benchmarks/compare.py --help` for everything.
"""
from __future__ import annotations

import argparse
import csv
import datetime as _dt
import math
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SCENARIOS = ["mon1", "mon100", "array", "get", "put", "connect", "wire"]
# the IOC-shaped fixed-rate fan-out (issue 13) and its raw-TCP limit: named explicitly
ALL_SCENARIOS = DEFAULT_SCENARIOS + ["fanout", "wire-fanout", "mixed", "pvs"]
FANOUT_RATES, FANOUT_CLIENTS, FANOUT_PVS = "10,100,1000,10000", "1,20,100", "1,10"
# a cell runs only where wire-fanout carried at least this share of the expected messages
FANOUT_CARRY = 0.95
DEFAULT_SIZES = "1K,16K,256K,1M,4M,8M"
SMALL_UPDATE_BYTES = 8  # wire baseline size that stands for a small (scalar) monitor update

# Template roles. "put_server"/"put_client" fall back to the get ones.
ROLES = ["mon_server", "mon_client", "get_server", "put_server", "get_client", "put_client",
         "connect_server", "connect_client", "fanout_server", "mixed_server", "pvs_server"]

PVWIRE_TEMPLATES = {
    "mon_server": "{bench} flood --prefix {prefix} --count {count} {array_length:--array-length}",
    "mon_client": "{bench} monitor --prefix {prefix} --count {count} --queue {queue} --pipeline --seconds {seconds}",
    "get_server": "{bench} flood --prefix {prefix} --count {count} --idle {put:--writable}",
    "get_client": "{bench} get --pv {pv} {put} --ops {ops} --inflight {inflight}",
    "connect_server": "{bench} flood --prefix {prefix} --count {count} --idle",
    "connect_client": "{bench} connect --prefix {prefix} --count {count} --clients {clients}",
    "fanout_server": "{bench} ticker --prefix {prefix} --count {count} --rate {rate} --type {value_type}",
    # the one client of every fan-out cell, whatever the server
    "fanout_client": "{bench} fanout --prefix {prefix} --count {count} --clients {clients} --rate {rate} "
                     "--seconds {seconds} --server-pid {server_pid}",
    # mixed (issue 13): the ticker with a writable PV; the one client of every mixed cell
    "mixed_server": "{bench} ticker --prefix {prefix} --count {count} --rate {rate} --type {value_type} "
                    "--put-pv {put_pv}",
    "mixed_client": "{bench} mixed --prefix {prefix} --count {count} --clients {clients} --per-client {per_client} "
                    "--rate {rate} --put-pv {put_pv} --put-rate {put_rate} --seconds {seconds} "
                    "--server-pid {server_pid}",
    # pvs (issue 13): prints its RSS before and after the PVs (a RESULT line), then serves them;
    # the channels to all of them come from connect_client (pvwire's, whatever the server)
    "pvs_server": "{bench} pvs --prefix {prefix} --count {count}",
}
WIRE_TEMPLATE = "{bench} wire --size {size} --seconds {seconds}"
WIRE_FANOUT_TEMPLATE = "{bench} wire-fanout --count {count} --clients {clients} --rate {rate} --seconds {seconds}"
# the PVXS fixed-rate server given by --pvxs-ticker (benchmarks/README.md says what it does)

PLACEHOLDERS = {
    "bench": "path of pvwire-bench (--pvwire-bench)",
    "prefix": "PV name prefix; the PVs are {prefix}0 .. {prefix}N-1",
    "count": "number of PVs (N); connect: the total number of channels, spread over {clients}",
    "names": "the PV names {prefix}0 .. {prefix}N-1, one argument each",
    "pv": "the single PV of get/put ({prefix}0)",
    "array_length": "uint32 elements per update; 0 for the scalar scenarios (mon1, mon100)",
    "elements": "like array_length, but 1 for the scalar scenarios",
    "size": "payload bytes per update: 4*array_length, or 4 for a scalar (wire: the message size)",
    "queue": "monitor queueSize (--queue, default 4)",
    "seconds": "measurement seconds (--seconds; the runner stops the client after warm-up + this)",
    "ops": "get/put operations (--ops)",
    "inflight": "operations in flight: 1 = sequential, --inflight = pipelined",
    "put": "'--put' in the put scenario, nothing in the get scenario",
    "clients": "client contexts of connect: {count} channels spread round-robin over them",
    "per_client": "connect: channels per client ({count} / {clients}); mixed: PVs each client monitors",
    "tcp_port": "the cell's TCP server port (also in EPICS_PVA(S)_SERVER_PORT)",
    "udp_port": "the cell's UDP search/beacon port (also in EPICS_PVA(S)_BROADCAST_PORT)",
    "rate": "fanout: posts per second of each PV",
    "value_type": "fanout: the NTScalar's value type, uint32 or double (--fanout-type)",
    "server_pid": "fanout client: the PID of the server it measures",
    "put_pv": "mixed: the writable PV the puts go to ({prefix}put)",
    "put_rate": "mixed: puts per second",
}

PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)(?::([^{}]*))?\}")

HELP_EPILOG = """\
cells
  A cell is SERVER/CLIENT, e.g. pvwire/other = pvwire server, other client. The pvwire side runs
  pvwire-bench; the other side runs the --other-* command templates (defaults from the
  environment variables PVWIRE_COMPARE_OTHER_MON_SERVER, ..._MON_CLIENT, ..._GET_SERVER,
  ..._PUT_SERVER, ..._GET_CLIENT, ..._PUT_CLIENT, ..._CONNECT_SERVER, ..._CONNECT_CLIENT and
  PVWIRE_COMPARE_OTHER_NAME). A cell runs only where both of its templates exist; with no
  --other-* template only pvwire/pvwire runs (plus the wire baseline).

scenarios
  mon1      1 counter PV, uint32 scalar monitor, pipeline, queueSize {queue}
  mon100    100 counter PVs, same
  array     1 PV, uint32 array monitor per --sizes (array length = bytes/4), pipeline, queue
  get, put  one PV: sequential (inflight 1) and pipelined (--inflight) round trips, --ops each
  connect   --connect-channels channels from one client; --connect-clients clients x
            --connect-client-channels channels (the server serves clients x channels PVs)
  wire      pvwire-bench wire: plain TCP on loopback, no pvAccess, for --sizes plus 8 bytes
  (not run unless named:)
  fanout    P NTScalar PVs posted at R Hz by a fixed-rate server (pvwire-bench ticker; PVXS: the
            program of --pvxs-ticker), C clients in one `pvwire-bench fanout` process; grid
            --fanout-rates x --fanout-clients x --fanout-pvs, or --fanout-cells. Each cell is
            probed first with wire-fanout; a cell where plain TCP cannot carry
            {carry:.0%} of the deliveries asked is skipped (and listed). Runs wire-fanout beside it.
            The client reads the server's CPU (its process CPU clock, via {{server_pid}}) over
            its own window: server CPU-us per delivered update, the same for any server.
  wire-fanout  pvwire-bench wire-fanout alone: one send() per client per tick, no pvAccess
  mixed     a beamline IOC: --mixed-pvs PVs posted at --mixed-rate Hz by the fixed-rate server
            (with one writable PV), --mixed-clients clients each monitoring a different subset of
            --mixed-per-client PVs, one client putting at --mixed-put-rate and one getting back to
            back, all in one `pvwire-bench mixed`: server CPU-us per delivered monitor update (all
            the server did), delivered/expected, monitor delay, put and get rates and latencies.
  pvs       --pvs-count NTScalar PVs served (pvwire-bench pvs; PVXS: --pvxs-ticker --pvs): the
            server's RSS before and after creating them (its own RESULT line), bytes per PV; then
            (unless --no-pvs-channels) `pvwire-bench connect` opens a channel to every PV and the
            server's peak RSS (VmHWM) gives bytes per PV with a channel.

placeholders (in the --other-* templates)
{placeholders}
  A template is split like a shell command line (no shell runs it; wrap it in sh -c '...' if
  you need one). A placeholder that is a whole word expands to zero or more arguments:
    {{names}}          -> S0 S1 S2             (a list: one argument per name)
    {{names:-S}}       -> -S S0 -S S1 -S S2    (FLAG before each element)
    {{names:--pv=}}    -> --pv=S0 --pv=S1      (FLAG ending in '=' is glued to the value)
    {{array_length:-#}} -> -# 1024, or nothing when the value is 0 or empty
    {{put}}            -> --put, or nothing;  {{put:--writable}} -> --writable, or nothing
  Inside a longer word ('--pvs={{names}}', 'cmp{{count}}') the value is substituted as text
  (lists joined with commas).

environment
  Every process gets the caller's environment without any EPICS_PVA*/EPICS_PVAS* variable,
  plus a private loopback-only configuration per cell: EPICS_PVA_ADDR_LIST=127.0.0.1,
  EPICS_PVA_AUTO_ADDR_LIST=NO, EPICS_PVAS_INTF_ADDR_LIST=127.0.0.1,
  EPICS_PVAS_BEACON_ADDR_LIST=127.0.0.1, EPICS_PVAS_AUTO_BEACON_ADDR_LIST=NO, and free ports
  in EPICS_PVA_SERVER_PORT=EPICS_PVAS_SERVER_PORT and EPICS_PVA_BROADCAST_PORT=
  EPICS_PVAS_BROADCAST_PORT.

measurement
  The server is started, the runner waits until its TCP port accepts a connection, then runs
  the client. Monitor clients get --seconds; one still running after warm-up (--warmup) +
  seconds gets SIGINT (then SIGKILL after --grace). Servers always get SIGINT then SIGKILL.
  Client output: the line 'RESULT key=value ...' (see benchmarks/README.md), or PVXS eatspam's
  output ('NAME X wakes/s Y update/s Z skips/s ...': updates/s = the sum of Y).
  cpu_us_per_update (monitor cells) = server + client CPU (utime+stime from /proc, whole process
  group) in the window [client start + min(warm-up, seconds/4), client exit or SIGINT], divided by
  updates_per_s * window: the same figure for any implementation. Memory (connect cells): the
  server's peak RSS (VmHWM) over the run and the client's RSS once connected (its rss_kb, else its
  ru_maxrss); "+channels" = that minus the RSS before any channel (the server's VmRSS once it
  accepts connections; the client's rss0_kb, printed after creating its context).
  Each cell runs --repeat times; the cell order alternates (A B C D, D C B A, ...), and each
  array size alternates with the wire baseline of that size (so both see the same machine); the tables
  show medians. Ratios: "vs pvwire" = the cell's throughput (updates/s, ops/s, channels/s)
  divided by pvwire/pvwire's (above 1 = faster); "vs wire" = MB/s divided by the wire baseline's
  MB/s at the same payload size (mon1/mon100: updates/s divided by 8-byte messages/s).

output (--out DIR, default benchmarks/out/<date-time>)
  runs.csv (one row per run), medians.csv (one row per scenario/case/cell), summary.txt (the
  tables), meta.txt (machine, commands), logs/ (every process's stdout/stderr), and with gnuplot
  array_throughput.png, latency.png, cpu_per_update.png, fanout_cpu_P<n>.png.

examples
  benchmarks/compare.py --smoke                      # pvwire vs itself, ~1 min, exit 1 on failure
  benchmarks/compare.py                              # pvwire/pvwire full run, all scenarios
  benchmarks/compare.py --other-name pvxs \\
      --other-mon-server 'spam {{names:-S}} {{array_length:-#}}' \\
      --other-mon-client 'eatspam -P -Q {{queue}} {{names}}' \\
      --other-get-server 'mailbox {{names}}' \\
      --other-get-client 'pvxs-bench-get --pv {{pv}} --ops {{ops}} --inflight {{inflight}} {{put}}' \\
      --other-connect-server 'mailbox {{names}}' \\
      --other-connect-client 'pvxs-bench-connect --prefix {{prefix}} --count {{count}} --clients {{clients}}'
  spam, eatspam and mailbox come with PVXS (its example and test programs); pvxs-bench-get and
  pvxs-bench-connect are NOT part of PVXS: they stand for get/put and connect clients written
  against PVXS's client API that you build yourself (any program printing a RESULT line will do,
  see benchmarks/README.md).
"""


def die(msg: str) -> None:
    print(f"compare.py: error: {msg}", file=sys.stderr)
    sys.exit(2)


def warn(msg: str) -> None:
    print(f"compare.py: warning: {msg}", file=sys.stderr)


# ---- templates ----------------------------------------------------------------------------

def _text(v) -> str:
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    if isinstance(v, bool):
        return "1" if v else ""
    return str(v)


def _empty(v) -> bool:
    return v is None or v is False or v == "" or v == 0 or (isinstance(v, (list, tuple)) and not v)


def expand(template: str, values: dict) -> list[str]:
    """Expands a command template into an argv (see the epilog of --help)."""
    argv: list[str] = []
    for tok in shlex.split(template):
        m = PLACEHOLDER_RE.fullmatch(tok)
        if m:
            key, flag = m.group(1), m.group(2)
            if key not in values:
                raise KeyError(key)
            v = values[key]
            items = list(v) if isinstance(v, (list, tuple)) else ([] if _empty(v) else [v])
            for item in items:
                if flag is None:
                    argv.append(str(item))
                elif key == "put":  # a boolean-like placeholder: FLAG replaces the value
                    argv.append(flag)
                elif flag.endswith("="):
                    argv.append(flag + str(item))
                else:
                    argv.extend([flag, str(item)])
            continue

        def sub(mm: re.Match) -> str:
            if mm.group(1) not in values:
                raise KeyError(mm.group(1))
            v = values[mm.group(1)]
            if mm.group(2) is not None:
                return "" if _empty(v) else mm.group(2) + _text(v)
            return _text(v)

        argv.append(PLACEHOLDER_RE.sub(sub, tok))
    return argv


def check_template(role: str, template: str) -> None:
    dummy = {k: 1 for k in PLACEHOLDERS}
    dummy.update(names=["a0"], put="--put", prefix="a", pv="a0", bench="pvwire-bench")
    try:
        argv = expand(template, dummy)
    except KeyError as e:
        die(f"template for {role}: unknown placeholder {{{e.args[0]}}} in {template!r}; "
            f"known: {', '.join('{' + k + '}' for k in PLACEHOLDERS)}")
    except ValueError as e:
        die(f"template for {role}: {e}: {template!r}")
    if not argv:
        die(f"template for {role} is empty")


# ---- processes ----------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")
_live: dict[int, subprocess.Popen] = {}


class Proc:
    """A child in its own process group, with stdout/stderr in files and rusage on exit."""

    def __init__(self, argv: list[str], env: dict, log_base: str):
        self.argv = argv
        self.out_path, self.err_path = log_base + ".out", log_base + ".err"
        self.rusage = None
        self.status = None
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            try:
                self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                              env=env, start_new_session=True)
            except OSError as e:
                raise CellError(f"cannot start {shlex.join(argv)}: {e}") from e
        self.pid = self.popen.pid
        self.t_start = time.monotonic()
        _live[self.pid] = self.popen

    def poll(self) -> bool:
        """True once the process has exited (reaps it and keeps its rusage)."""
        if self.status is not None:
            return True
        try:
            pid, status, ru = os.wait4(self.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status, ru = self.pid, 0, None
        if pid == 0:
            return False
        self.status = os.waitstatus_to_exitcode(status)
        self.popen.returncode = self.status
        self.rusage = ru
        self.t_end = time.monotonic()
        _live.pop(self.pid, None)
        return True

    def wait(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while not self.poll():
            if time.monotonic() >= end:
                return False
            time.sleep(0.02)
        return True

    def signal(self, sig: int) -> None:
        if self.status is None:
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, grace: float) -> None:
        """SIGINT, then SIGKILL after `grace` seconds."""
        if self.poll():
            return
        self.signal(signal.SIGINT)
        if not self.wait(grace):
            self.signal(signal.SIGKILL)
            self.wait(5)

    def stdout(self) -> str:
        with open(self.out_path, "r", errors="replace") as f:
            return f.read()

    def tail(self, path: str, lines: int = 15) -> str:
        try:
            with open(path, "r", errors="replace") as f:
                tail = f.read().splitlines()[-lines:]
        except OSError:
            return ""
        return "\n".join("    | " + t for t in tail)

    def group_pids(self) -> list[int]:
        """This process and every live process of its process group."""
        pids = [self.pid]
        for d in os.listdir("/proc"):
            if d.isdigit() and int(d) != self.pid:
                st = _read_stat(int(d))
                if st and st[0] == self.pid:
                    pids.append(int(d))
        return pids


def _read_stat(pid: int):
    """(pgrp, cpu seconds) of one process from /proc/PID/stat, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode(errors="replace")
    except OSError:
        return None
    rest = data[data.rfind(")") + 2:].split()
    # rest[0] = state (field 3), so field n is rest[n - 3]: pgrp = 5, utime = 14, stime = 15
    return int(rest[2]), (int(rest[11]) + int(rest[12])) / CLK_TCK


def cpu_of(pids: list[int]) -> float:
    total = 0.0
    for p in pids:
        st = _read_stat(p)
        if st:
            total += st[1]
    return total


def rss_kb_of(pids: list[int], field: str = "VmRSS") -> float | None:
    """Sum of a /proc/PID/status memory field: VmRSS (now) or VmHWM (peak)."""
    total, seen = 0, False
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
                        seen = True
        except OSError:
            pass
    return total if seen else None


def kill_all_live() -> None:
    for pid, popen in list(_live.items()):
        try:
            os.killpg(pid, signal.SIGINT)
        except ProcessLookupError:
            _live.pop(pid, None)
    end = time.monotonic() + 3
    while _live and time.monotonic() < end:
        for pid, popen in list(_live.items()):
            if popen.poll() is not None:
                _live.pop(pid, None)
        time.sleep(0.05)
    for pid, popen in list(_live.items()):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        _live.pop(pid, None)


def free_ports() -> tuple[int, int]:
    """A free TCP port and a free UDP port on 127.0.0.1 (different from each other)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            t.bind(("127.0.0.1", 0))
            u.bind(("127.0.0.1", 0))
            tcp, udp = t.getsockname()[1], u.getsockname()[1]
        if tcp != udp:
            return tcp, udp


def loopback_env(tcp: int, udp: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EPICS_PVA")}
    env.update({
        "EPICS_PVA_ADDR_LIST": "127.0.0.1",
        "EPICS_PVA_AUTO_ADDR_LIST": "NO",
        "EPICS_PVAS_INTF_ADDR_LIST": "127.0.0.1",
        "EPICS_PVAS_BEACON_ADDR_LIST": "127.0.0.1",
        "EPICS_PVAS_AUTO_BEACON_ADDR_LIST": "NO",
        "EPICS_PVA_SERVER_PORT": str(tcp),
        "EPICS_PVAS_SERVER_PORT": str(tcp),
        "EPICS_PVA_BROADCAST_PORT": str(udp),
        "EPICS_PVAS_BROADCAST_PORT": str(udp),
    })
    return env


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# ---- output parsing -----------------------------------------------------------------------

def _num(s: str):
    try:
        v = float(s)
    except ValueError:
        return s
    return v


def parse_result_line(text: str) -> dict | None:
    found = None
    for line in text.splitlines():
        if line.startswith("RESULT "):
            found = line
    if found is None:
        return None
    out = {}
    for item in found.split()[1:]:
        if "=" in item:
            k, v = item.split("=", 1)
            out[k] = _num(v)
    return out


_NUM = r"([-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|nan|inf|-nan))"
EATSPAM_RATE = re.compile(rf"^(\S+) {_NUM} wakes/s {_NUM} update/s {_NUM} skips/s(?: {_NUM} updates/wake)?")
EATSPAM_TIME = re.compile(rf"^# run time {_NUM} sec")
EATSPAM_Q = re.compile(r"^\s*(\S+) Q used \S+ w/ (\d+) server overflows (\d+) client overflows for (\d+) updates")


def parse_eatspam(text: str) -> dict | None:
    rates = [m for m in (EATSPAM_RATE.match(l) for l in text.splitlines()) if m]
    if not rates:
        return None
    f = lambda s: float(s) if s not in ("nan", "-nan") else 0.0
    r = {"kind": "monitor", "parser": "eatspam", "pvs": len(rates),
         "updates_per_s": sum(f(m.group(3)) for m in rates),
         "wakeups_per_s": sum(f(m.group(2)) for m in rates),
         "skips_per_s": sum(f(m.group(4)) for m in rates)}
    for l in text.splitlines():
        m = EATSPAM_TIME.match(l)
        if m:
            r["seconds"] = float(m.group(1))
    q = [m for m in (EATSPAM_Q.match(l) for l in text.splitlines()) if m]
    if q:
        r["squashed"] = sum(int(m.group(2)) + int(m.group(3)) for m in q)
        r["updates"] = sum(int(m.group(4)) for m in q)
    if "seconds" in r:
        r.setdefault("updates", r["updates_per_s"] * r["seconds"])
        r["wakeups"] = r["wakeups_per_s"] * r["seconds"]
        r["skipped"] = r["skips_per_s"] * r["seconds"]
    if r["wakeups_per_s"] > 0:
        r["updates_per_wake"] = r["updates_per_s"] / r["wakeups_per_s"]
    return r


def parse_client_output(text: str) -> dict | None:
    return parse_result_line(text) or parse_eatspam(text)


def self_test() -> None:
    """Checks of the template expansion and of the output parsers (run by --smoke)."""
    v = {"names": ["p0", "p1"], "put": "", "array_length": 0, "elements": 1, "queue": 4, "prefix": "p",
         "count": 2, "pv": "p0"}
    checks = [
        ("x {names:-S} {array_length:-#}", ["x", "-S", "p0", "-S", "p1"]),
        ("x {names:--pv=} {elements:-#} {put}", ["x", "--pv=p0", "--pv=p1", "-#", "1"]),
        ("x '--pvs={names}' {prefix}{count} -Q{queue}", ["x", "--pvs=p0,p1", "p2", "-Q4"]),
    ]
    for t, want in checks:
        got = expand(t, v)
        assert got == want, f"expand({t!r}) = {got} != {want}"
    # an array size runs alternated with the wire baseline of the same size
    imp = Impl("x", {"mon_server": "s", "mon_client": "c"})
    arr = Case("array", "1KiB", "monitor", {"count": 1, "array_length": 256})
    w8, w1k = (Case("wire", size_label(n), "wire", {"size": n}) for n in (8, 1024))
    groups = run_groups([(arr, cells_for(arr, [imp])), (w8, cells_for(w8, [imp])), (w1k, cells_for(w1k, [imp]))])
    labels = [[f"{c.label}:{cell.label}" for c, cell in g] for g in groups]
    assert labels == [["array/1KiB:x/x", "wire/1KiB:wire"], ["wire/8B:wire"]], labels
    v.update(put="--put", array_length=8)
    assert expand("x {put} {put:--writable} {array_length:--array-length}", v) == \
        ["x", "--put", "--writable", "--array-length", "8"]
    r = parse_client_output("noise\nRESULT kind=get mode=sequential ops=200 ops_per_s=1.5e4 p50_us=20\n")
    assert r == {"kind": "get", "mode": "sequential", "ops": 200.0, "ops_per_s": 15000.0, "p50_us": 20.0}, r
    sample = ("Running\n a:0 Q used 4/4 w/ 3 server overflows 1 client overflows for 1000 updates\n"
              " a:1 Q used 2/4 w/ 0 server overflows 0 client overflows for 3000 updates\n"
              "# run time 2 sec.\n"
              "a:0 100 wakes/s 500 update/s 0 skips/s 5 updates/wake 0 % skip\n"
              "a:1 1.5e+02 wakes/s 1.5e+03 update/s 2 skips/s 10 updates/wake 0.13 % skip\n\n")
    r = parse_client_output(sample)
    assert r and r["updates_per_s"] == 2000 and r["updates"] == 4000 and r["squashed"] == 4 \
        and r["seconds"] == 2 and r["skipped"] == 4 and r["wakeups"] == 500, r
    assert parse_client_output("pvwire-bench monitor: 12 updates\n") is None


# ---- the plan -----------------------------------------------------------------------------

@dataclass
class Impl:
    name: str
    templates: dict  # role -> template


@dataclass
class Case:
    scenario: str
    variant: str
    kind: str        # monitor, getput, connect, wire
    params: dict

    @property
    def label(self) -> str:
        return self.scenario + ("/" + self.variant if self.variant else "")


@dataclass
class Cell:
    server: Impl | None
    client: Impl | None
    readers_each: bool = False  # wire-fanout only: one receiving thread per connection (--wire-each)

    @property
    def label(self) -> str:
        if self.server is None:
            return WIRE_EACH if self.readers_each else "wire"
        return f"{self.server.name}/{self.client.name}"


# The wire-fanout cell whose receivers are shaped like the pvAccess fan-out client's: one thread
# per connection, each woken by its own send() (the sender's kernel time pays for the wake-ups).
WIRE_EACH = "wire-each"


class CellError(Exception):
    pass


def parse_size(s: str) -> int:
    m = re.fullmatch(r"\s*(\d+)\s*([kKmM]?)(?:i?[bB])?\s*", s)
    if not m:
        die(f"bad size {s!r} (use e.g. 1024, 16K, 1M)")
    n = int(m.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[m.group(2).lower()]
    if n < 4 or n % 4:
        die(f"size {s!r}: must be a positive multiple of 4 bytes")
    return n


def size_label(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)}MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024}KiB"
    return f"{n}B"


def build_cases(a) -> list[Case]:
    cases = []
    sc = a.scenarios
    if "mon1" in sc:
        cases.append(Case("mon1", "", "monitor", dict(count=1, array_length=0)))
    if "mon100" in sc:
        cases.append(Case("mon100", "", "monitor", dict(count=100, array_length=0)))
    if "array" in sc:
        for s in a.sizes:
            cases.append(Case("array", size_label(s), "monitor", dict(count=1, array_length=s // 4)))
    for op in ("get", "put"):
        if op in sc:
            cases.append(Case(op, "sequential", "getput", dict(count=1, inflight=1, put=(op == "put"))))
            cases.append(Case(op, "pipelined", "getput", dict(count=1, inflight=a.inflight, put=(op == "put"))))
    if "connect" in sc:
        cases.append(Case("connect", f"{a.connect_channels}ch", "connect",
                          dict(count=a.connect_channels, clients=1)))
        cases.append(Case("connect", f"{a.connect_clients}x{a.connect_client_channels}", "connect",
                          dict(count=a.connect_clients * a.connect_client_channels, clients=a.connect_clients)))
    if "wire" in sc:
        for s in sorted(set(a.sizes) | {SMALL_UPDATE_BYTES}):
            cases.append(Case("wire", size_label(s), "wire", dict(size=s)))
    for rate, clients, pvs in a.fanout_cells if ("fanout" in sc or "wire-fanout" in sc) else []:
        variant, params = fanout_label(rate, clients, pvs), dict(rate=rate, clients=clients, count=pvs)
        if "fanout" in sc:
            cases.append(Case("fanout", variant, "fanout", dict(params)))
        cases.append(Case("wire-fanout", variant, "wire_fanout", dict(params)))  # the limit beside it
    if "mixed" in sc:
        cases.append(Case("mixed", f"{a.mixed_pvs}pv {a.mixed_clients}c x{a.mixed_per_client}", "mixed",
                          dict(count=a.mixed_pvs, clients=a.mixed_clients, per_client=a.mixed_per_client,
                               rate=a.mixed_rate)))
    if "pvs" in sc:
        cases.append(Case("pvs", f"{a.pvs_count}pv", "pvs", dict(count=a.pvs_count, clients=1)))
    return cases


def fanout_label(rate: float, clients: int, pvs: int) -> str:
    return f"{rate:g}Hz x{clients}c x{pvs}pv"


def parse_fanout_grid(a) -> list[tuple[float, int, int]]:
    """The fan-out cells (rate, clients, pvs): --fanout-cells R:C:P,... or the grid."""
    try:
        if a.fanout_cells:
            cells = [tuple(x.split(":")) for x in a.fanout_cells.split(",") if x.strip()]
            return [(float(r), int(c), int(p)) for r, c, p in cells]
        nums = lambda text, conv: [conv(x) for x in text.split(",") if x.strip()]
        return [(r, c, p) for p in nums(a.fanout_pvs, int) for r in nums(a.fanout_rates, float)
                for c in nums(a.fanout_clients, int)]
    except ValueError:
        die("--fanout-cells takes RATE:CLIENTS:PVS,... and the --fanout-* grids comma lists of numbers")


def run_groups(plan: list[tuple[Case, list[Cell]]]) -> list[list[tuple[Case, Cell]]]:
    """The runs that alternate with each other: each case's cells, and an array size together
    with the wire baseline of the same size. Loopback throughput on a VM drifts between runs
    (on the 2-core benchmark VM plain TCP at 4 MiB alternates between ~1.9 and ~5.5 GB/s for
    seconds at a time), so the baseline must be measured in the same stretch of time as the
    arrays it is compared to."""
    wire = {c.params["size"]: (c, cells) for c, cells in plan if c.kind == "wire"}
    wire_fanout = {c.variant: (c, cells) for c, cells in plan if c.kind == "wire_fanout"}
    paired = set()
    groups = []
    for c, cells in plan:
        if c.kind == "wire" or not cells:
            continue
        if c.kind == "wire_fanout":
            if not any(o.kind == "fanout" and o.variant == c.variant for o, _ in plan):
                groups.append([(c, cell) for cell in cells])
            continue
        group = [(c, cell) for cell in cells]
        if c.kind == "fanout" and c.variant in wire_fanout:
            wc, wcells = wire_fanout[c.variant]
            group += [(wc, cell) for cell in wcells]
        if c.scenario == "array":
            size = 4 * c.params["array_length"]
            if size in wire:
                wc, wcells = wire[size]
                group += [(wc, cell) for cell in wcells]
                paired.add(size)
        groups.append(group)
    for size, (wc, wcells) in wire.items():
        if size not in paired:
            groups.append([(wc, cell) for cell in wcells])
    return groups


def roles_for(case: Case) -> tuple[str, str]:
    if case.kind == "monitor":
        return "mon_server", "mon_client"
    if case.kind == "getput":
        return ("put_server", "put_client") if case.params["put"] else ("get_server", "get_client")
    if case.kind in ("fanout", "mixed"):
        return case.kind + "_server", case.kind + "_client"
    if case.kind == "pvs":
        return "pvs_server", "connect_client"
    return "connect_server", "connect_client"


def template(impl: Impl, role: str) -> str | None:
    t = impl.templates.get(role)
    if not t and role.startswith("put_"):
        t = impl.templates.get("get_" + role[4:])
    return t or None


def cells_for(case: Case, impls: list[Impl], wire_each: bool = False) -> list[Cell]:
    if case.kind == "wire_fanout" and wire_each:
        return [Cell(None, None), Cell(None, None, readers_each=True)]
    if case.kind in ("wire", "wire_fanout"):
        return [Cell(None, None)]
    if case.kind in ("fanout", "mixed", "pvs"):  # every server against the same client: pvwire-bench's
        return [Cell(s, impls[0]) for s in impls if template(s, roles_for(case)[0])]
    srole, crole = roles_for(case)
    return [Cell(s, c) for s in impls for c in impls if template(s, srole) and template(c, crole)]


def values_for(case: Case, a, tcp: int, udp: int) -> dict:
    p = case.params
    count = p.get("count", 1)
    prefix = a.prefix
    al = p.get("array_length", 0)
    clients = p.get("clients", 1)
    return {
        "bench": a.pvwire_bench,
        "prefix": prefix,
        "count": count,
        "names": [f"{prefix}{i}" for i in range(count)],
        "pv": f"{prefix}0",
        "array_length": al,
        "elements": al if al else 1,
        "size": p.get("size", 4 * al if al else 4),
        "queue": a.queue,
        "seconds": _fmt_secs(a.seconds),
        "ops": a.ops,
        "inflight": p.get("inflight", 1),
        "put": "--put" if p.get("put") else "",
        "clients": clients,
        "per_client": p.get("per_client", count // clients),
        "tcp_port": tcp,
        "udp_port": udp,
        "rate": _fmt_secs(p.get("rate", 0)),
        "value_type": a.fanout_type,
        "server_pid": "PID",  # set when the server runs
        "put_pv": f"{prefix}put",
        "put_rate": _fmt_secs(a.mixed_put_rate),
    }


def _fmt_secs(s: float) -> str:
    return str(int(s)) if float(s).is_integer() else str(s)


# ---- running one cell ---------------------------------------------------------------------

class Runner:
    def __init__(self, a, impls: list[Impl]):
        self.a = a
        self.impls = impls
        self.logdir = os.path.join(a.out, "logs")
        os.makedirs(self.logdir, exist_ok=True)
        self.seq = 0

    def _log_base(self, case: Case, cell: Cell, rep: int, what: str) -> str:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{self.seq:04d}_{case.label}_{cell.label}_r{rep}_{what}")
        return os.path.join(self.logdir, safe)

    def run(self, case: Case, cell: Cell, rep: int, seconds: float | None = None) -> dict:
        self.seq += 1
        a = self.a
        tcp, udp = free_ports()
        env = loopback_env(tcp, udp)
        vals = values_for(case, a, tcp, udp)
        row: dict = {}
        if case.kind in ("wire", "wire_fanout"):
            secs = seconds or (a.wire_seconds if case.kind == "wire" else a.seconds)
            vals["seconds"] = _fmt_secs(secs)
            t = WIRE_TEMPLATE if case.kind == "wire" else WIRE_FANOUT_TEMPLATE
            argv = expand(t, vals) + (["--readers", str(vals["clients"])] if cell.readers_each else [])
            client = Proc(argv, env, self._log_base(case, cell, rep, "wire"))
            self._wait_client(client, secs + a.client_timeout)
            return self._finish(case, cell, client, row)

        srole, crole = roles_for(case)
        server_argv = expand(template(cell.server, srole), vals)
        server = Proc(server_argv, env, self._log_base(case, cell, rep, "server"))
        vals["server_pid"] = server.pid  # the fan-out client reads the server's CPU from /proc
        client_argv = expand(template(cell.client, crole), vals)
        if case.kind == "fanout" and a.fanout_one_reader:
            client_argv.append("--one-thread")
        client = None
        try:
            self._wait_ready(server, tcp)
            server_pids = server.group_pids()
            if case.kind == "connect":
                row["server_rss0_kb"] = rss_kb_of(server_pids)
            if case.kind == "pvs":
                self._pvs_result(server, row)
                if not a.pvs_channels:
                    return self._finish_pvs(case, row)
            client = Proc(client_argv, env, self._log_base(case, cell, rep, "client"))
            if case.kind == "monitor":
                self._drive_monitor(client, server_pids, row)
            elif case.kind in ("fanout", "mixed"):
                self._wait_client(client, a.seconds + a.client_timeout)
            else:
                s0 = cpu_of(server_pids)
                if not client.wait(a.client_timeout):
                    client.stop(a.grace)
                    raise CellError(f"client did not finish within {a.client_timeout:.0f} s"
                                    + self._tail(client))
                row["server_cpu_s"] = cpu_of(server_pids) - s0
                if case.kind in ("connect", "pvs"):
                    # the peak: by now the client may have disconnected and the server
                    # released its channels
                    row["server_rss_kb"] = rss_kb_of(server.group_pids(), "VmHWM")
            if server.poll():
                warn(f"{case.label} {cell.label}: the server exited early (status {server.status})")
        finally:
            if client is not None:
                client.stop(a.grace)
            server.stop(a.grace)
        return self._finish(case, cell, client, row)

    def _pvs_result(self, server: Proc, row: dict) -> None:
        """Waits for the pvs server's own RESULT line (its RSS before and after the PVs)."""
        end = time.monotonic() + self.a.ready_timeout + self.a.client_timeout
        while time.monotonic() < end:
            res = parse_result_line(server.stdout())
            if res:
                # server_rss0_kb, server_rss1_kb, server_bytes_per_pv: apart from the client's keys
                row.update({"server_" + k: v for k, v in res.items() if k != "kind"})
                return
            if server.poll():
                break
            time.sleep(0.1)
        raise CellError("the pvs server printed no RESULT line" + self._tail(server, stdout=True))

    def _finish_pvs(self, case: Case, row: dict) -> dict:
        self._derive(case, row)
        ok, why = valid(case, row)
        if not ok:
            raise CellError(why)
        return row

    def _wait_client(self, client: Proc, timeout: float) -> None:
        """Waits for a client that ends by itself; stops it and fails the cell after `timeout`."""
        try:
            if not client.wait(timeout):
                raise CellError(f"did not finish within {timeout:.0f} s" + self._tail(client))
        finally:
            client.stop(self.a.grace)

    def _tail(self, p: Proc, stdout: bool = False) -> str:
        out = ""
        if stdout:
            t = p.tail(p.out_path, 5)
            out += ("\n  stdout tail of " + shlex.join(p.argv)[:200] + ":\n" + t) if t else ""
        t = p.tail(p.err_path)
        out += ("\n  stderr tail of " + shlex.join(p.argv)[:200] + ":\n" + t) if t else ""
        return out

    def _wait_ready(self, server: Proc, port: int) -> None:
        end = time.monotonic() + self.a.ready_timeout
        while time.monotonic() < end:
            if server.poll():
                raise CellError(f"server exited with status {server.status} before accepting connections "
                                f"on TCP {port}" + self._tail(server))
            if port_accepts(port):
                return
            time.sleep(0.05)
        raise CellError(f"server did not accept connections on TCP {port} within {self.a.ready_timeout:.0f} s"
                        + self._tail(server))

    def _drive_monitor(self, client: Proc, server_pids: list[int], row: dict) -> None:
        a = self.a
        t0 = client.t_start
        # The CPU window starts once the client should be measuring; a client that measures for
        # --seconds and exits on its own must still leave a window when --seconds is short.
        w_start, deadline = t0 + min(a.warmup, a.seconds / 4), t0 + a.warmup + a.seconds
        first = last = None  # (t, server cpu, client cpu)
        client_pids = None
        while True:
            exited = client.poll()
            now = time.monotonic()
            if exited:
                break
            if now >= w_start:
                if client_pids is None:
                    client_pids = client.group_pids()
                sample = (now, cpu_of(server_pids), cpu_of(client_pids))
                if first is None:
                    first = sample
                else:
                    last = sample
            if now >= deadline:
                client.signal(signal.SIGINT)
                if not client.wait(a.grace):
                    client.signal(signal.SIGKILL)
                    client.wait(5)
                    row["killed"] = 1
                break
            time.sleep(0.1)
        if first and last and last[0] - first[0] > 0.2:
            row["window_s"] = last[0] - first[0]
            row["server_cpu_s"] = last[1] - first[1]
            row["client_cpu_s"] = last[2] - first[2]

    def _finish(self, case: Case, cell: Cell, client: Proc, row: dict) -> dict:
        text = client.stdout()
        res = parse_client_output(text)
        if res is None:
            raise CellError(f"no result in the client's output (exit status {client.status}; "
                            f"neither a RESULT line nor eatspam output); stdout: {client.out_path}"
                            + self._tail(client, stdout=True))
        for k, v in res.items():
            if k == "kind":
                continue
            if case.kind == "monitor" and k in ("cpu_us_per_update", "cpu_s"):
                k += "_self"  # the client's own figure; cpu_us_per_update is the runner's
            row.setdefault(k, v)
        row["client_status"] = client.status
        if client.rusage is not None:
            row["client_maxrss_kb"] = client.rusage.ru_maxrss
            row["client_total_cpu_s"] = client.rusage.ru_utime + client.rusage.ru_stime
        self._derive(case, row)
        ok, why = valid(case, row)
        if not ok:
            raise CellError(f"{why} (exit status {client.status}); stdout: {client.out_path}" + self._tail(client))
        return row

    def _derive(self, case: Case, row: dict) -> None:
        p = case.params
        if case.kind == "monitor":
            payload = 4 * p["array_length"] if p["array_length"] else 4
            row["payload_bytes"] = float(payload)
            if "mb_per_s" not in row and _isnum(row.get("updates_per_s")):
                row["mb_per_s"] = row["updates_per_s"] * payload / 1e6
            ups = row.get("updates_per_s")
            if "window_s" in row and _isnum(ups) and ups > 0:
                row["cpu_us_per_update"] = (row["server_cpu_s"] + row["client_cpu_s"]) / (ups * row["window_s"]) * 1e6
                # The figure assumes a steady rate. If the client's own CPU figure says it worked
                # much harder than the runner saw in the window, the run stalled part of the time.
                own, secs = row.get("cpu_s_self"), row.get("seconds")
                if _isnum(own) and _isnum(secs) and secs > 0 and own > 0.05 and \
                        row["client_cpu_s"] < 0.25 * own * min(1.0, row["window_s"] / secs):
                    row["unsteady"] = 1
                    warn(f"{case.label}: the client's CPU in the sampling window ({row['client_cpu_s']:.2f} s) "
                         f"is far below its own figure ({own:.2f} s in {secs:.2f} s): the update rate was not "
                         f"steady (a stall?); cpu_us_per_update of this run is unreliable")
        elif case.kind == "getput":
            ops = row.get("ops")
            if _isnum(ops) and ops > 0 and "client_total_cpu_s" in row and "server_cpu_s" in row:
                row["total_cpu_us_per_op"] = (row["server_cpu_s"] + row["client_total_cpu_s"]) / ops * 1e6
        elif case.kind == "connect":
            row["channels_expected"] = float(p["count"])
            if not _isnum(row.get("rss_kb")) and "client_maxrss_kb" in row:
                row["client_rss_kb"] = row["client_maxrss_kb"]
            else:
                row["client_rss_kb"] = row.get("rss_kb")
            # what the channels cost: RSS with them minus RSS before them (the client's rss0_kb:
            # after creating its context(s), before the first channel; the server's: once it
            # accepts connections)
            if _isnum(row.get("rss0_kb")) and _isnum(row.get("client_rss_kb")):
                row["client_channels_kb"] = row["client_rss_kb"] - row["rss0_kb"]
            if _isnum(row.get("server_rss0_kb")) and _isnum(row.get("server_rss_kb")):
                row["server_channels_kb"] = row["server_rss_kb"] - row["server_rss0_kb"]
        elif case.kind == "pvs":
            n = float(p["count"])
            rss0 = row.get("server_rss0_kb")
            if _isnum(rss0) and _isnum(row.get("server_rss1_kb")):
                row["kb_per_pv"] = (row["server_rss1_kb"] - rss0) / n
            # the peak with a channel open to every PV, over the same empty-server RSS
            if _isnum(rss0) and _isnum(row.get("server_rss_kb")):
                row["kb_per_pv_with_channel"] = (row["server_rss_kb"] - rss0) / n


def valid(case: Case, row: dict) -> tuple[bool, str]:
    def pos(k):
        v = row.get(k)
        return _isnum(v) and v > 0 and math.isfinite(v)
    if case.kind == "monitor":
        return (pos("updates_per_s") and (pos("updates") or "updates" not in row)), "no monitor updates counted"
    if case.kind == "getput":
        return pos("ops") and pos("ops_per_s"), "no get/put operations completed"
    if case.kind == "pvs":
        if _isnum(row.get("channels")) and row["channels"] < p_count(case):
            return False, f"only {row['channels']:.0f} of {p_count(case):.0f} channels connected"
        return pos("kb_per_pv"), "no RSS growth measured for the PVs"
    if case.kind == "mixed" and not (pos("put_per_s") and pos("get_per_s")):
        return False, "no puts or no gets completed"
    if case.kind in ("fanout", "wire_fanout", "mixed"):
        if row.get("errors", 0) or row.get("put_errors", 0) or row.get("get_errors", 0):
            return False, "the client reported errors or disconnections"
        if row.get("client_status") != 0:
            return False, "the client failed"
        got = row.get("delivered_ratio", 0)
        return pos("delivered") and got >= FANOUT_MIN_RATIO[0], \
            f"delivered/expected {got:.3f} below --fanout-min-ratio {FANOUT_MIN_RATIO[0]}"
    if case.kind == "connect":
        if _isnum(row.get("channels")) and row["channels"] < row["channels_expected"]:
            return False, f"only {row['channels']:.0f} of {row['channels_expected']:.0f} channels connected"
        return pos("channels_per_s") and (pos("channels") or "channels" not in row), "no channels connected"
    return pos("messages") and pos("mb_per_s"), "no wire messages"


def p_count(case: Case) -> float:
    return float(case.params["count"])


# set from --fanout-min-ratio (a list so that valid() sees the option without another argument)
FANOUT_MIN_RATIO = [0.0]


# ---- reporting ----------------------------------------------------------------------------

RUN_COLS = ["scenario", "case", "cell", "server", "client", "rep", "order", "status", "error"]
METRIC_COLS = [
    "updates_per_s", "mb_per_s", "cpu_us_per_update", "window_s", "server_cpu_s", "client_cpu_s",
    "updates", "skipped", "squashed", "wakeups", "updates_per_wake", "payload_bytes", "pvs",
    "mode", "inflight", "ops", "ops_per_s", "p50_us", "p99_us", "p999_us", "cpu_us_per_op",
    "total_cpu_us_per_op", "channels", "channels_expected", "clients", "channels_per_s",
    "client_rss_kb", "server_rss_kb", "client_channels_kb", "server_channels_kb", "rss0_kb", "server_rss0_kb", "size", "messages", "msgs_per_s", "cpu_s", "seconds",
    "cpu_us_per_update_self", "cpu_s_self", "client_total_cpu_s", "client_maxrss_kb", "client_status", "killed",
    "unsteady",
    "parser",
    "rate", "delivered", "expected", "delivered_ratio", "gaps", "errors", "delay_p50_us", "delay_p99_us",
    "delay_p999_us", "server_cpu_us_per_update",
    "put_per_s", "put_p50_us", "put_p99_us", "get_per_s", "get_p50_us", "get_p99_us",
    "server_rss1_kb", "server_bytes_per_pv", "kb_per_pv", "kb_per_pv_with_channel",
]


def write_csv(path: str, rows: list[dict], cols: list[str]) -> None:
    extra = sorted({k for r in rows for k in r} - set(cols))
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols + extra, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: _csv_val(v) for k, v in r.items()})


def _csv_val(v):
    if isinstance(v, float):
        return f"{v:.6g}" if not v.is_integer() or abs(v) >= 1e15 else str(int(v))
    return v


def _isnum(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def medians(runs: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        groups.setdefault((r["scenario"], r["case"], r["cell"]), []).append(r)
    out = []
    for (scen, case, cell), rs in groups.items():
        ok = [r for r in rs if r["status"] == "ok"]
        m = {"scenario": scen, "case": case, "cell": cell, "server": rs[0]["server"], "client": rs[0]["client"],
             "runs": len(rs), "ok_runs": len(ok)}
        keys = {k for r in ok for k, v in r.items() if _isnum(v) and k not in ("rep", "order")}
        for k in keys:
            vals = [float(r[k]) for r in ok if _isnum(r.get(k)) and math.isfinite(r[k])]
            if vals:
                m[k] = statistics.median(vals)
        for k in ("mode",):
            if ok and k in ok[0]:
                m[k] = ok[0][k]
        out.append(m)
    return out


def fmt(v, digits=3) -> str:
    if not isinstance(v, (int, float)) or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.{digits}g}M" if a < 1e9 else f"{v / 1e9:.{digits}g}G"
    if a >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def ratio(a, b) -> str:
    if isinstance(a, float) and isinstance(b, float) and b > 0:
        r = a / b
        return f"{r:.2f}x" if r >= 0.1 else f"{r:.2g}x"
    return "-"


def cell_order(impl_names: list[str]):
    """Sort key: pvwire/pvwire, pvwire/other, other/pvwire, other/other."""
    def key(cell: str):
        s, _, c = cell.partition("/")
        idx = lambda n: impl_names.index(n) if n in impl_names else len(impl_names)
        return (idx(s), idx(c), cell)
    return key


def render_tables(meds: list[dict], cases: list[Case], a, failures: list[str], impl_names: list[str]) -> str:
    by = {(m["scenario"], m["case"], m["cell"]): m for m in meds}
    base_cell = "pvwire/pvwire"
    wire = {m["size"]: m for m in meds if m["scenario"] == "wire" and isinstance(m.get("size"), float)}
    lines = []
    scen_titles = {
        "mon1": f"mon1: 1 uint32 counter PV, monitor, pipeline, queueSize {a.queue}",
        "mon100": f"mon100: 100 uint32 counter PVs, monitor, pipeline, queueSize {a.queue}",
        "array": f"array: 1 uint32 array PV, monitor, pipeline, queueSize {a.queue}",
        "get": f"get: one PV, {a.ops} ops; sequential = inflight 1, pipelined = inflight {a.inflight}",
        "put": f"put: one PV, {a.ops} ops; sequential = inflight 1, pipelined = inflight {a.inflight}",
        "connect": "connect: channels from clients (time until all connected)",
        "wire": "wire: plain TCP on loopback (pvwire-bench wire), no pvAccess",
        "fanout": f"fanout: {a.fanout_type} NTScalars posted at a fixed rate to C clients; server CPU per "
                  f"delivered update; wire = one send() per client per tick (wire-fanout)"
                  + (f"; {WIRE_EACH} = the same, read by one thread per connection" if a.wire_each else "")
                  + ("; the pvAccess clients read by one thread (--fanout-one-reader)" if a.fanout_one_reader else ""),
        "wire-fanout": "wire-fanout: one send() per client per tick on loopback TCP, no pvAccess",
        "mixed": f"mixed: {a.mixed_pvs} PVs at {a.mixed_rate:g} Hz, {a.mixed_clients} clients x {a.mixed_per_client} "
                 f"monitors, puts at {a.mixed_put_rate:g}/s, gets back to back; server CPU per delivered monitor update",
        "pvs": "pvs: NTScalar SharedPVs served; KiB per PV = RSS growth when created; with channel = peak RSS "
               "with one client's channel to every PV",
    }
    has_fanout = any(c.scenario == "fanout" for c in cases)
    done = set()
    for case in cases:
        if case.scenario in done or (case.scenario == "wire-fanout" and has_fanout):
            continue
        done.add(case.scenario)
        scases = [c for c in cases if c.scenario == case.scenario]
        kind = case.kind
        if not any(k[0] == case.scenario for k in by):
            continue
        lines.append("")
        lines.append(f"== {scen_titles[case.scenario]}   (median of {a.repeat}; cell = server/client)")
        if kind == "monitor":
            hdr = ["case", "cell", "updates/s", "MB/s", "cpu us/upd", "skipped", "squashed", "vs pvwire", "vs wire"]
        elif kind == "getput":
            hdr = ["case", "cell", "ops/s", "p50 us", "p99 us", "p99.9 us", "cpu us/op", "vs pvwire"]
        elif kind == "connect":
            hdr = ["case", "cell", "channels/s", "seconds", "client RSS MB", "+channels MB",
                   "server RSS MB", "+channels MB", "vs pvwire"]
        elif kind in ("fanout", "wire_fanout"):
            hdr = ["case", "cell", "server us/upd", "delivered/exp", "delay p50 us", "p99 us", "server RSS MB",
                   "vs wire"] + (["vs " + WIRE_EACH] if a.wire_each else [])
        elif kind == "mixed":
            hdr = ["case", "cell", "server us/upd", "delivered/exp", "delay p50 us", "p99 us", "puts/s",
                   "put p50 us", "p99 us", "gets/s", "get p50 us", "p99 us", "server RSS MB"]
        elif kind == "pvs":
            hdr = ["case", "cell", "KiB per PV", "with channel", "server RSS MB"]
        else:
            hdr = ["size", "msgs/s", "MB/s", "cpu s"]
        rows = []
        for c in scases:
            name = c.variant or c.scenario
            keys = [k for k in by if k[0] == c.scenario and k[1] == name]
            if c.kind == "fanout":
                keys += [k for k in by if k[0] == "wire-fanout" and k[1] == name]
            base = by.get((c.scenario, name, base_cell), {})
            for key in sorted(keys, key=lambda k: (k[2].startswith("wire"), cell_order(impl_names)(k[2]))):
                cell, m = key[2], by[key]
                if m.get("ok_runs", 0) == 0:
                    rows.append([name, cell, "FAILED"] + [""] * (len(hdr) - 3))
                    continue
                if kind == "monitor":
                    if c.scenario == "array":
                        w = wire.get(float(m.get("payload_bytes", -1)), {})
                        vs_wire = ratio(m.get("mb_per_s"), w.get("mb_per_s"))
                    else:
                        w = wire.get(float(SMALL_UPDATE_BYTES), {})
                        vs_wire = ratio(m.get("updates_per_s"), w.get("msgs_per_s"))
                    rows.append([name, cell, fmt(m.get("updates_per_s")), fmt(m.get("mb_per_s")),
                                 fmt(m.get("cpu_us_per_update")), fmt(m.get("skipped")), fmt(m.get("squashed")),
                                 ratio(m.get("updates_per_s"), base.get("updates_per_s")), vs_wire])
                elif kind == "getput":
                    rows.append([name, cell, fmt(m.get("ops_per_s")), fmt(m.get("p50_us")), fmt(m.get("p99_us")),
                                 fmt(m.get("p999_us")), fmt(m.get("cpu_us_per_op")),
                                 ratio(m.get("ops_per_s"), base.get("ops_per_s"))])
                elif kind == "connect":
                    def mb(key):
                        v = m.get(key)
                        return fmt(v / 1024 if isinstance(v, float) else None)
                    rows.append([name, cell, fmt(m.get("channels_per_s")), fmt(m.get("seconds")),
                                 mb("client_rss_kb"), mb("client_channels_kb"),
                                 mb("server_rss_kb"), mb("server_channels_kb"),
                                 ratio(m.get("channels_per_s"), base.get("channels_per_s"))])
                elif kind in ("fanout", "wire_fanout"):
                    cpu = m.get("server_cpu_us_per_update")
                    vs = lambda base: ratio(cpu, by.get(("wire-fanout", name, base), {}).get("server_cpu_us_per_update"))
                    mb = m.get("server_rss_kb")
                    rows.append([name, cell, fmt(cpu), fmt(m.get("delivered_ratio")),
                                 fmt(m.get("delay_p50_us")), fmt(m.get("delay_p99_us")),
                                 fmt(mb / 1024 if isinstance(mb, float) and not cell.startswith("wire") else None),
                                 vs("wire")] + ([vs(WIRE_EACH)] if a.wire_each else []))
                elif kind == "mixed":
                    rows.append([name, cell] + [fmt(m.get(k)) for k in (
                        "server_cpu_us_per_update", "delivered_ratio", "delay_p50_us", "delay_p99_us", "put_per_s",
                        "put_p50_us", "put_p99_us", "get_per_s", "get_p50_us", "get_p99_us")]
                                + [fmt(m["server_rss_kb"] / 1024 if _isnum(m.get("server_rss_kb")) else None)])
                elif kind == "pvs":
                    peak = m.get("server_rss_kb", m.get("server_rss1_kb"))
                    rows.append([name, cell, fmt(m.get("kb_per_pv")), fmt(m.get("kb_per_pv_with_channel")),
                                 fmt(peak / 1024 if _isnum(peak) else None)])
                else:
                    rows.append([name, fmt(m.get("msgs_per_s")), fmt(m.get("mb_per_s")), fmt(m.get("cpu_s"))])
        widths = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
        lines.append("  ".join(h.ljust(widths[i]) if i < 2 else h.rjust(widths[i]) for i, h in enumerate(hdr)))
        for r in rows:
            lines.append("  ".join(str(v).ljust(widths[i]) if i < 2 else str(v).rjust(widths[i])
                                   for i, v in enumerate(r)))
    if failures:
        lines.append("")
        lines.append(f"== {len(failures)} failed run(s)")
        lines.extend(failures)
    return "\n".join(lines) + "\n"


# ---- charts -------------------------------------------------------------------------------

def gnuplot_terminal() -> str | None:
    gp = shutil.which("gnuplot")
    if not gp:
        return None
    try:
        p = subprocess.run([gp, "-e", "set terminal"], capture_output=True, text=True, timeout=20)
        listing = p.stdout + p.stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    if "pngcairo" in listing:
        return "pngcairo"
    return "png" if re.search(r"^\s*png\s", listing, re.M) else None


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', "'") + '"'


def draw_charts(meds: list[dict], a, impl_names: list[str]) -> list[str]:
    term = gnuplot_terminal()
    if term is None:
        warn("gnuplot (with a png terminal) not found: no charts (apt-get install gnuplot-nox)")
        return []
    cdir = a.out
    made = []
    termline = (f"set terminal {term} size 1100,650 noenhanced font ',10'" if term == "pngcairo"
                else f"set terminal png size 1100,650 noenhanced")
    base_order = cell_order(impl_names)

    # 1. array throughput vs size, one line per cell, plus the wire baseline
    arr = [m for m in meds if m["scenario"] == "array" and isinstance(m.get("mb_per_s"), float)]
    lo = min((m["payload_bytes"] for m in arr), default=0)
    hi = max((m["payload_bytes"] for m in arr), default=0)
    wire = sorted((m for m in meds if m["scenario"] == "wire" and isinstance(m.get("mb_per_s"), float)
                   and lo <= m.get("size", 0) <= hi), key=lambda m: m["size"])
    if arr:
        plots = []
        for cell in sorted({m["cell"] for m in arr}, key=base_order):
            pts = sorted((m["payload_bytes"], m["mb_per_s"]) for m in arr if m["cell"] == cell)
            fn = os.path.join(cdir, "array_" + re.sub(r"[^A-Za-z0-9_.-]", "_", cell) + ".dat")
            with open(fn, "w") as f:
                f.write("# bytes MB/s\n" + "".join(f"{x:.0f} {y:.6g}\n" for x, y in pts))
            plots.append(f"{_q(fn)} using 1:2 with linespoints lw 2 pt 7 title {_q(cell)}")
        if wire:
            fn = os.path.join(cdir, "array_wire.dat")
            with open(fn, "w") as f:
                f.write("# bytes MB/s\n" + "".join(f"{m['size']:.0f} {m['mb_per_s']:.6g}\n" for m in wire))
            plots.append(f"{_q(fn)} using 1:2 with linespoints lw 2 dt 2 lc rgb 'black' pt 6 "
                         f"title 'wire baseline (plain TCP)'")
        sizes = sorted({m["payload_bytes"] for m in arr} | {m["size"] for m in wire})
        xtics = ", ".join(f"{_q(size_label(int(s)))} {s:.0f}" for s in sizes)
        out = os.path.join(cdir, "array_throughput.png")
        axes = f"""set logscale x 2
set logscale y 10
set xtics ({xtics})
set xlabel 'array payload per update'
set ylabel 'MB/s'
set offsets graph 0.04, graph 0.04, 0, 0
"""
        if _line_chart(termline, out, "uint32 array monitor throughput (median MB/s of the value payload; "
                       "server/client)", axes, plots, os.path.join(cdir, "array_throughput.gp")):
            made.append(out)

    # 2. get/put latency percentiles per case and cell
    gp = [m for m in meds if m["scenario"] in ("get", "put") and isinstance(m.get("p50_us"), float)]
    if gp:
        fn = os.path.join(cdir, "latency.dat")
        with open(fn, "w") as f:
            f.write("# label p50_us p99_us p999_us\n")
            for m in sorted(gp, key=lambda m: (m["scenario"], m["case"] != "sequential", base_order(m["cell"]))):
                lab = f"{m['scenario']} {m['case'][:3]} {m['cell']}"
                f.write(f"{_q(lab)} {m['p50_us']:.6g} {m.get('p99_us', m['p50_us']):.6g} "
                        f"{m.get('p999_us', m['p50_us']):.6g}\n")
        out = os.path.join(cdir, "latency.png")
        script = f"""{termline}
set output {_q(out)}
set title 'get/put round-trip latency percentiles (median of runs; seq = inflight 1, pip = pipelined)'
{HISTOGRAMS}set logscale y 10
set yrange [1:*]
set ylabel 'microseconds (log)'
set xtics rotate by 30 right
set grid ytics
set key outside right top
set bmargin 10
set lmargin 16
plot {_q(fn)} using 2:xtic(1) title 'p50', '' using 3 title 'p99', '' using 4 title 'p99.9'
"""
        if _run_gnuplot(script, os.path.join(cdir, "latency.gp")):
            made.append(out)

    # 3. CPU microseconds per update for mon1 / mon100 per cell
    mon = [m for m in meds if m["scenario"] in ("mon1", "mon100") and isinstance(m.get("cpu_us_per_update"), float)]
    if mon:
        cells = sorted({m["cell"] for m in mon}, key=base_order)
        scen = [s for s in ("mon1", "mon100") if any(m["scenario"] == s for m in mon)]
        fn = os.path.join(cdir, "cpu_per_update.dat")
        with open(fn, "w") as f:
            f.write("# cell " + " ".join(scen) + "\n")
            for cell in cells:
                vals = []
                for s in scen:
                    v = next((m["cpu_us_per_update"] for m in mon if m["cell"] == cell and m["scenario"] == s), None)
                    vals.append(f"{v:.6g}" if v is not None else "NaN")
                f.write(f"{_q(cell)} {' '.join(vals)}\n")
        out = os.path.join(cdir, "cpu_per_update.png")
        cols = ", ".join(
            (f"{_q(fn)} using {i + 2}:xtic(1)" if i == 0 else f"'' using {i + 2}") + f" title {_q(s)}"
            for i, s in enumerate(scen))
        script = f"""{termline}
set output {_q(out)}
set title 'CPU per monitor update: server + client CPU-microseconds (median; server/client)'
{HISTOGRAMS}set yrange [0:*]
set ylabel 'CPU-us per update'
set grid ytics
set key left top
plot {cols}
"""
        if _run_gnuplot(script, os.path.join(cdir, "cpu_per_update.gp")):
            made.append(out)
    return made + draw_fanout_charts(meds, cdir, termline, impl_names)


def draw_fanout_charts(meds: list[dict], cdir: str, termline: str, impl_names: list[str]) -> list[str]:
    """fanout_cpu_P<n>.png: server CPU-us per delivered update against the client count, one
    line per server (pvwire, the other implementation, the wire baseline) and rate."""
    rows = [m for m in meds if m["scenario"] in ("fanout", "wire-fanout")
            and all(isinstance(m.get(k), float) for k in ("server_cpu_us_per_update", "clients", "rate", "pvs"))]
    made = []
    baselines = ["wire", WIRE_EACH]
    colours = {name: c for name, c in zip(impl_names + baselines,
                                          ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"])}
    for pvs in sorted({m["pvs"] for m in rows}):
        plots = []
        rates = sorted({m["rate"] for m in rows if m["pvs"] == pvs})
        for server in impl_names + baselines:
            for i, rate in enumerate(rates):
                pts = sorted((m["clients"], m["server_cpu_us_per_update"]) for m in rows
                             if m["pvs"] == pvs and m["rate"] == rate and m["server"] == server)
                if not pts:
                    continue
                fn = os.path.join(cdir, f"fanout_{server}_{rate:g}Hz_P{pvs:g}.dat")
                with open(fn, "w") as f:
                    f.write("# clients server_cpu_us_per_update\n" + "".join(f"{x:g} {y:.6g}\n" for x, y in pts))
                plots.append(f"{_q(fn)} using 1:2 with linespoints lw 2 dt {i + 1} pt {7 + i} "
                             f"lc rgb {_q(colours.get(server, 'black'))} title {_q(f'{server} {rate:g} Hz')}")
        if not plots:
            continue
        out = os.path.join(cdir, f"fanout_cpu_P{pvs:g}.png")
        axes = """set logscale x 10
set logscale y 10
set xlabel 'clients'
set ylabel 'server CPU-us per delivered update (log)'
set offsets graph 0.05, graph 0.05, 0, 0
"""
        if _line_chart(termline, out, f"fixed-rate fan-out, {pvs:g} PV(s): server CPU per delivered update "
                       "(median; wire = one send() per client per tick)", axes, plots,
                       os.path.join(cdir, f"fanout_cpu_P{pvs:g}.gp")):
            made.append(out)
    return made


# gnuplot settings shared by the bar charts
HISTOGRAMS = """set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
"""


def _line_chart(termline: str, out: str, title: str, axes: str, plots: list[str], gp_path: str) -> bool:
    """Draws `plots` (gnuplot plot clauses) into `out` with the axis settings `axes`."""
    script = f"""{termline}
set output {_q(out)}
set title {_q(title)}
{axes}set grid
set key outside right top
plot {", ".join(plots)}
"""
    return _run_gnuplot(script, gp_path)


def _run_gnuplot(script: str, path: str) -> bool:
    with open(path, "w") as f:
        f.write(script)
    p = subprocess.run(["gnuplot", path], capture_output=True, text=True)
    if p.returncode != 0:
        warn(f"gnuplot failed on {path}:\n{p.stderr.strip()}")
        return False
    return True


# ---- main ---------------------------------------------------------------------------------

def default_bench() -> str:
    env = os.environ.get("PVWIRE_BENCH")
    if env:
        return env
    for cand in ("build/bin/pvwire-bench", "build-bench/bin/pvwire-bench"):
        p = os.path.join(REPO, cand)
        if os.path.exists(p):
            return p
    return os.path.join(REPO, "build/bin/pvwire-bench")


def parse_args(argv):
    ph = "\n".join(f"  {{{k}}}".ljust(17) + v for k, v in PLACEHOLDERS.items())
    p = argparse.ArgumentParser(
        prog="compare.py",
        description="Benchmark pvAccess implementations side by side on this machine, loopback only: "
                    "{pvwire, other} servers x {pvwire, other} clients.",
        epilog=HELP_EPILOG.format(placeholders=ph, queue="Q", carry=FANOUT_CARRY),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pvwire-bench", default=default_bench(), metavar="PATH",
                   help="pvwire-bench binary (default: $PVWIRE_BENCH or build/bin/pvwire-bench: %(default)s)")
    p.add_argument("--scenarios", default=",".join(DEFAULT_SCENARIOS),
                   help="comma list of %s (default: %s)" % (",".join(ALL_SCENARIOS), ",".join(DEFAULT_SCENARIOS)))
    p.add_argument("--repeat", type=int, default=5, help="runs per cell, median reported (default 5)")
    p.add_argument("--seconds", type=float, default=5, help="measurement seconds per monitor run (default 5)")
    p.add_argument("--warmup", type=float, default=1.0,
                   help="seconds a monitor client may take to connect before measuring (default 1)")
    p.add_argument("--wire-seconds", type=float, default=None, help="seconds per wire run (default --seconds)")
    p.add_argument("--sizes", default=DEFAULT_SIZES, help=f"array payload sizes in bytes, K/M = KiB/MiB (default {DEFAULT_SIZES})")
    p.add_argument("--queue", type=int, default=4, help="monitor queueSize (default 4)")
    p.add_argument("--ops", type=int, default=2000, help="get/put operations per run (default 2000)")
    p.add_argument("--inflight", type=int, default=16, help="inflight operations of the pipelined get/put (default 16)")
    p.add_argument("--connect-channels", type=int, default=10000, help="channels from one client (default 10000)")
    p.add_argument("--connect-clients", type=int, default=1000, help="clients of the many-clients case (default 1000)")
    p.add_argument("--connect-client-channels", type=int, default=3, help="channels per client there (default 3)")
    p.add_argument("--fanout-rates", default=FANOUT_RATES, help=f"fanout grid: posts/s per PV (default {FANOUT_RATES})")
    p.add_argument("--fanout-clients", default=FANOUT_CLIENTS, help=f"fanout grid: clients (default {FANOUT_CLIENTS})")
    p.add_argument("--fanout-pvs", default=FANOUT_PVS, help=f"fanout grid: PVs (default {FANOUT_PVS})")
    p.add_argument("--fanout-cells", default=None, metavar="R:C:P,...",
                   help="fanout: these cells instead of the grid, e.g. 1000:20:1,100:50:1 (the issue's headline)")
    p.add_argument("--fanout-type", default="uint32", choices=["uint32", "double"], help="fanout: value type")
    p.add_argument("--wire-each", action="store_true",
                   help="fanout: also run wire-fanout with one receiving thread per connection (--readers C), "
                        f"the cell '{WIRE_EACH}': receivers shaped like the pvAccess fan-out client's, one "
                        "thread per client context")
    p.add_argument("--fanout-one-reader", action="store_true",
                   help="fanout: the C client contexts of `pvwire-bench fanout` share one thread (--one-thread), "
                        "as wire-fanout's default receiver reads every connection with one thread")
    p.add_argument("--fanout-min-ratio", type=float, default=None,
                   help="fanout: a run delivering less than this share of the expected updates fails "
                        "(default 0: reported, not failed; --smoke: 0.5, a broken pipeline rather than a slow machine)")
    p.add_argument("--no-fanout-probe", action="store_true",
                   help="fanout: run every cell, without first probing with wire-fanout which ones the machine carries")
    p.add_argument("--mixed-pvs", type=int, default=1000, help="mixed: the server's PVs (default 1000)")
    p.add_argument("--mixed-rate", type=float, default=10, help="mixed: posts/s of each PV (default 10)")
    p.add_argument("--mixed-clients", type=int, default=50, help="mixed: monitor clients (default 50)")
    p.add_argument("--mixed-per-client", type=int, default=100, help="mixed: PVs each client monitors (default 100)")
    p.add_argument("--mixed-put-rate", type=float, default=1000, help="mixed: puts per second (default 1000)")
    p.add_argument("--pvs-count", type=int, default=100000, help="pvs: NTScalar PVs served (default 100000)")
    p.add_argument("--no-pvs-channels", dest="pvs_channels", action="store_false",
                   help="pvs: only the PVs, no client with a channel to each")
    p.add_argument("--pvxs-ticker", default=os.environ.get("PVWIRE_COMPARE_PVXS_TICKER"), metavar="PATH",
                   help="fanout: PVXS's fixed-rate server (built outside pvwire, see benchmarks/README.md), run as "
                        "'PATH PREFIX COUNT RATE TYPE'; default $PVWIRE_COMPARE_PVXS_TICKER. Without it (or when "
                        "PATH does not exist) the PVXS column is skipped, with a note")
    p.add_argument("--prefix", default="cmp:", help="PV name prefix (default cmp:)")
    p.add_argument("--other-name", default=os.environ.get("PVWIRE_COMPARE_OTHER_NAME", "other"),
                   help="label of the other implementation (default: other)")
    for role in ROLES:
        opt = "--other-" + role.replace("_", "-")
        envname = "PVWIRE_COMPARE_OTHER_" + role.upper()
        p.add_argument(opt, dest="other_" + role, default=os.environ.get(envname), metavar="TEMPLATE",
                       help=f"command template (default ${envname})")
    p.add_argument("--out", default=None, help="output directory (default benchmarks/out/<date-time>)")
    p.add_argument("--ready-timeout", type=float, default=30, help="seconds for a server to accept TCP (default 30)")
    p.add_argument("--client-timeout", type=float, default=300,
                   help="seconds a get/put/connect/wire client may run (default 300)")
    p.add_argument("--grace", type=float, default=5, help="seconds between SIGINT and SIGKILL (default 5)")
    p.add_argument("--no-charts", action="store_true", help="do not run gnuplot")
    p.add_argument("--dry-run", action="store_true", help="print the command lines of every cell and exit")
    p.add_argument("--smoke", action="store_true",
                   help="quick self-check (CTest): pvwire against itself (other = pvwire-bench, labelled "
                        "pvwire-b), 2 s monitor runs, sizes 1K,64K, connect 200 channels and 20 clients x 3, "
                        "200 ops, repeat 1; exits 1 unless every cell produced a result. Without --out it "
                        "writes into a temporary directory, removed when the test passes")
    a = p.parse_args(argv)

    if a.smoke:
        a.other_name = "pvwire-b"
        for role in ROLES:
            setattr(a, "other_" + role, PVWIRE_TEMPLATES.get(role))
        given = {x.split("=")[0] for x in argv}
        # small and short, unless the command line says otherwise
        smoke_defaults = {"seconds": 2, "warmup": 0.5, "wire_seconds": 1, "sizes": "1K,64K",
                          "fanout_cells": "100:5:1,500:3:2", "fanout_min_ratio": 0.5,
                          "mixed_pvs": 100, "mixed_clients": 5, "mixed_per_client": 20, "mixed_put_rate": 200,
                          "pvs_count": 5000,
                          "connect_channels": 200, "connect_clients": 20, "ops": 200, "repeat": 1,
                          "client_timeout": 30, "ready_timeout": 10, "grace": 3}
        for name, value in smoke_defaults.items():
            if "--" + name.replace("_", "-") not in given:
                setattr(a, name, value)
    if a.wire_seconds is None:
        a.wire_seconds = a.seconds
    a.fanout_cells = parse_fanout_grid(a)
    FANOUT_MIN_RATIO[0] = a.fanout_min_ratio or 0.0
    a.scenarios = [s.strip() for s in a.scenarios.split(",") if s.strip()]
    for s in a.scenarios:
        if s not in ALL_SCENARIOS:
            die(f"unknown scenario {s!r}; known: {','.join(ALL_SCENARIOS)}")
    a.sizes = sorted({parse_size(s) for s in a.sizes.split(",") if s.strip()})
    if a.repeat < 1 or a.seconds <= 0 or a.ops < 1 or a.inflight < 1 or a.queue < 1:
        die("--repeat, --seconds, --ops, --inflight and --queue must be positive")
    a.out_is_temp = False
    if a.out is None and a.smoke and not a.dry_run:
        a.out = tempfile.mkdtemp(prefix="pvwire-compare-smoke-")
        a.out_is_temp = True  # removed when the smoke test passes
    elif a.out is None:
        a.out = os.path.join(REPO, "benchmarks", "out", _dt.datetime.now().strftime("%Y-%m-%d_%H%M%S"))
    return a


def write_meta(a, impls: list[Impl], cases: list[Case], argv: list[str]) -> None:
    def sh(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"
    with open(os.path.join(a.out, "meta.txt"), "w") as f:
        f.write(f"date: {_dt.datetime.now().isoformat(timespec='seconds')}\n")
        f.write(f"command: {shlex.join([sys.argv[0]] + argv)}\n")
        f.write(f"git: {sh(['git', '-C', REPO, 'describe', '--always', '--dirty'])}\n")
        f.write(f"nproc: {os.cpu_count()}\nuname: {' '.join(os.uname())}\n")
        f.write("lscpu:\n" + "\n".join("  " + l for l in sh(["lscpu"]).splitlines()[:12]) + "\n")
        f.write(f"pvwire-bench: {a.pvwire_bench}\n")
        for impl in impls:
            for role in ROLES:
                t = impl.templates.get(role)
                if t:
                    f.write(f"{impl.name}.{role}: {t}\n")
        f.write(f"wire: {WIRE_TEMPLATE}\n")
        f.write("cases: " + " ".join(c.label for c in cases) + "\n")


def expected_seconds(a, case: Case) -> float | None:
    """How long one run of `case` takes at least, or None when its length depends on the
    implementation's speed (get/put and connect run until their operations are done)."""
    if case.kind == "monitor":
        return a.warmup + a.seconds
    if case.kind == "wire":
        return a.wire_seconds
    if case.kind in ("fanout", "wire_fanout", "mixed"):
        return a.seconds + 1  # plus connecting the clients
    return None


def print_plan_summary(a, groups) -> None:
    runs = [case for group in groups for case, _ in group]
    timed = [t for t in (expected_seconds(a, c) for c in runs) if t is not None]
    untimed = len(runs) - len(timed)
    total = sum(timed) * a.repeat
    print(f"compare.py: {len(runs)} cells x --repeat {a.repeat} = {len(runs) * a.repeat} runs; "
          f"expected duration at least {total / 60:.1f} min ({total:.0f} s of monitor and wire runs"
          + (f", plus {untimed * a.repeat} get/put/connect runs that last as long as their operations take"
             if untimed else "") + ", plus server start-up per run)")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    a = parse_args(argv)
    if a.smoke:
        self_test()
    pvwire = Impl("pvwire", dict(PVWIRE_TEMPLATES))
    other_t = {r: getattr(a, "other_" + r) for r in ROLES if getattr(a, "other_" + r)}
    fanout_note = pvxs_ticker_template(a, other_t)
    impls = [pvwire] + ([Impl(a.other_name, other_t)] if other_t else [])
    if other_t and a.other_name == "pvwire":
        die("--other-name must differ from 'pvwire'")
    for impl in impls:
        for role, t in impl.templates.items():
            check_template(f"{impl.name} {role}", t)
    check_template("wire", WIRE_TEMPLATE)
    check_template("wire-fanout", WIRE_FANOUT_TEMPLATE)
    cases = build_cases(a)
    plan = [(c, cells_for(c, impls, a.wire_each)) for c in cases]
    groups = run_groups(plan)
    if fanout_note and {"fanout", "mixed", "pvs"} & set(a.scenarios):
        print(f"compare.py: note: {fanout_note}")

    if a.dry_run:
        print_plan_summary(a, groups)
        for c, cells in plan:
            for cell in cells:
                vals = values_for(c, a, 0, 0)
                if c.kind in ("wire", "wire_fanout"):
                    vals["seconds"] = _fmt_secs(a.wire_seconds if c.kind == "wire" else a.seconds)
                    t = WIRE_TEMPLATE if c.kind == "wire" else WIRE_FANOUT_TEMPLATE
                    print(f"{c.label:22} {cell.label:22} client: {shlex.join(expand(t, vals))}")
                    continue
                sr, cr = roles_for(c)
                sv = shlex.join(expand(template(cell.server, sr), vals))
                cv = shlex.join(expand(template(cell.client, cr), vals))
                print(f"{c.label:22} {cell.label:22} server: {sv[:150]}{'...' if len(sv) > 150 else ''}")
                print(f"{'':22} {'':22} client: {cv[:150]}{'...' if len(cv) > 150 else ''}")
        return 0

    needs_bench = "wire" in a.scenarios or "fanout" in a.scenarios or "wire-fanout" in a.scenarios or any("{bench}" in t for i in impls for t in i.templates.values())
    if needs_bench and not os.access(a.pvwire_bench, os.X_OK):
        die(f"pvwire-bench not found at {a.pvwire_bench} (build it: cmake --build build --target pvwire_bench, "
            f"or pass --pvwire-bench PATH)")
    os.makedirs(a.out, exist_ok=True)
    write_meta(a, impls, cases, argv)

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)

    runner = Runner(a, impls)
    runs: list[dict] = []
    failures: list[str] = []
    skipped: list[str] = []
    if "fanout" in a.scenarios and not a.no_fanout_probe:
        try:
            groups, skipped = probe_fanout(runner, groups)
            if a.smoke:  # the smoke cells are small: plain TCP not carrying them is a failure
                failures.extend(f"SKIPPED fanout cell {x}" for x in skipped)
        except KeyboardInterrupt:
            kill_all_live()
            return 130
    total = sum(len(g) for g in groups) * a.repeat
    n = 0
    t_begin = time.monotonic()
    print(f"compare.py: {total} runs, {len(impls)} implementation(s): {', '.join(i.name for i in impls)}; "
          f"output in {a.out}", flush=True)
    interrupted = False
    try:
        for case, cells in plan:
            if not cells:
                warn(f"{case.label}: no cell has templates for it, skipped")
        for group in groups:
            for rep in range(a.repeat):
                order = group if rep % 2 == 0 else list(reversed(group))
                for oi, (case, cell) in enumerate(order):
                    n += 1
                    row = {"scenario": case.scenario, "case": case.variant or case.scenario, "cell": cell.label,
                           "server": cell.server.name if cell.server else cell.label,
                           "client": cell.client.name if cell.client else "wire", "rep": rep + 1, "order": oi + 1}
                    prog = f"[{n}/{total}] {case.label} {cell.label} rep {rep + 1}"
                    print(prog + " ...", end="", flush=True)
                    try:
                        row.update(runner.run(case, cell, rep + 1))
                        row["status"] = "ok"
                        print(" " + summary_of(case, row), flush=True)
                    except CellError as e:
                        row["status"] = "failed"
                        row["error"] = str(e).splitlines()[0]
                        msg = f"FAILED {case.label} cell {cell.label} (server/client) rep {rep + 1}: {e}"
                        failures.append(msg)
                        print(" FAILED", flush=True)
                        print(msg, file=sys.stderr, flush=True)
                    runs.append(row)
    except KeyboardInterrupt:
        interrupted = True
        print("\ncompare.py: interrupted; stopping every process and writing what was measured",
              file=sys.stderr)
    finally:
        kill_all_live()

    write_csv(os.path.join(a.out, "runs.csv"), runs, RUN_COLS + METRIC_COLS)
    meds = medians(runs)
    write_csv(os.path.join(a.out, "medians.csv"), meds,
              ["scenario", "case", "cell", "server", "client", "runs", "ok_runs"] + METRIC_COLS)
    names = [i.name for i in impls]
    text = render_tables(meds, [c for c, _ in plan], a, failures, names)
    if skipped:
        text += (f"\n== fanout cells skipped: plain TCP (wire-fanout, {min(2.0, a.seconds):g} s probe) delivered less than "
                 f"{FANOUT_CARRY:.0%} of the updates asked\n" + "\n".join(skipped) + "\n")
    if fanout_note and {"fanout", "mixed", "pvs"} & set(a.scenarios):
        text += f"\nnote: {fanout_note}\n"
    with open(os.path.join(a.out, "summary.txt"), "w") as f:
        f.write(text)
    print(text)
    if not a.no_charts and runs:
        for path in draw_charts(meds, a, names):
            print(f"chart: {path}")
    print(f"compare.py: {len(runs)} runs in {time.monotonic() - t_begin:.0f} s, {len(failures)} failed; "
          f"CSV in {a.out}")
    if interrupted:
        return 130
    if failures or len(runs) < total:
        if a.smoke:
            print("SMOKE FAIL: not every cell produced a result", file=sys.stderr)
        return 1
    if a.smoke:
        print("SMOKE PASS: every cell produced a result")
        if a.out_is_temp:
            shutil.rmtree(a.out, ignore_errors=True)
    return 0


def pvxs_ticker_template(a, other_t: dict) -> str | None:
    """Adds the PVXS fixed-rate server of --pvxs-ticker to the other implementation's templates;
    returns a note when there is none (the PVXS column of fanout, mixed and pvs is then skipped)."""
    if other_t.get("fanout_server"):
        return None
    if not a.pvxs_ticker:
        return "no --pvxs-ticker: the PVXS column of fanout, mixed and pvs is skipped (benchmarks/README.md says how to build it)"
    if not os.access(a.pvxs_ticker, os.X_OK):
        return f"--pvxs-ticker {a.pvxs_ticker} is not an executable: the PVXS column of fanout is skipped"
    other_t["fanout_server"] = shlex.quote(a.pvxs_ticker) + " {prefix} {count} {rate} {value_type}"
    other_t.setdefault("mixed_server", shlex.quote(a.pvxs_ticker) + " {prefix} {count} {rate} {value_type} {put_pv}")
    other_t.setdefault("pvs_server", shlex.quote(a.pvxs_ticker) + " --pvs {prefix} {count}")
    if a.other_name == "other":
        a.other_name = "pvxs"
    return None


def probe_fanout(runner: Runner, groups):
    """Runs wire-fanout once for every fan-out cell (at most 2 s) and drops the cells in which
    plain TCP delivered less than FANOUT_CARRY of the updates asked: the machine cannot carry
    them, so no pvAccess server can. Returns the remaining groups and the skipped cells."""
    keep, skipped = [], []
    for group in groups:
        probe = next((c for c, _ in group if c.kind == "wire_fanout"), None)
        if probe is None or not any(c.kind == "fanout" for c, _ in group):
            keep.append(group)
            continue
        print(f"[probe] {probe.label} ...", end="", flush=True)
        try:
            row = runner.run(probe, Cell(None, None), 0, seconds=min(2.0, runner.a.seconds))
            got, why = row.get("delivered_ratio", 0.0), ""
        except CellError as e:
            got, why = 0.0, str(e).splitlines()[0]
        demand = probe.params["rate"] * probe.params["clients"] * probe.params["count"]
        if got >= FANOUT_CARRY:
            print(f" carried {got:.3f} of {fmt(demand)} deliveries/s", flush=True)
            keep.append(group)
        else:
            print(f" SKIP: carried {got:.3f} of {fmt(demand)} deliveries/s {why}", flush=True)
            skipped.append(f"{probe.variant}: {fmt(demand)} deliveries/s asked, wire-fanout delivered {got:.3f}"
                           + (f" ({why})" if why else ""))
    return keep, skipped


def summary_of(case: Case, r: dict) -> str:
    if case.kind in ("fanout", "wire_fanout", "mixed"):
        ops = (f", puts/s {fmt(r.get('put_per_s'))}, gets/s {fmt(r.get('get_per_s'))}"
               if case.kind == "mixed" else "")
        return (f"{fmt(r.get('server_cpu_us_per_update'))} server cpu-us/update, delivered "
                f"{fmt(r.get('delivered_ratio'))}, delay p50/p99 {fmt(r.get('delay_p50_us'))}/"
                f"{fmt(r.get('delay_p99_us'))} us" + ops)
    if case.kind == "pvs":
        return (f"{fmt(r.get('kb_per_pv'))} KiB per PV, {fmt(r.get('kb_per_pv_with_channel'))} KiB with a channel")
    if case.kind == "monitor":
        return (f"{fmt(r.get('updates_per_s'))} updates/s, {fmt(r.get('mb_per_s'))} MB/s, "
                f"{fmt(r.get('cpu_us_per_update'))} cpu-us/update")
    if case.kind == "getput":
        return f"{fmt(r.get('ops_per_s'))} ops/s, p50 {fmt(r.get('p50_us'))} us, p99 {fmt(r.get('p99_us'))} us"
    if case.kind == "connect":
        return f"{fmt(r.get('channels_per_s'))} channels/s, {fmt(r.get('seconds'))} s"
    return f"{fmt(r.get('msgs_per_s'))} msgs/s, {fmt(r.get('mb_per_s'))} MB/s"


if __name__ == "__main__":
    sys.exit(main())
