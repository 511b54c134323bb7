// The page: which PVs (?pvs=a,b,c, else the server's /api/pvs), a filter, the list with live
// values, and the selected PV in detail (chart, plot, table, image) with a put form.

import { useEffect, useMemo, useState } from "react";
import { Session, msgpackUrl } from "./session.js";
import { Detail } from "./Detail.jsx";
import { SEVERITIES, formatTime, formatValue, severityOf } from "./format.js";

async function fetchJson(path) {
    const r = await fetch(path, { headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return r.json();
}

// The PV names the page shows: from the URL, or asked of the server.
async function loadNames() {
    const fromUrl = new URLSearchParams(location.search).get("pvs");
    if (fromUrl) return fromUrl.split(",").map((s) => s.trim()).filter(Boolean);
    const names = await fetchJson("/api/pvs");
    if (!Array.isArray(names)) throw new Error("/api/pvs did not answer a list of names");
    return names.map(String).sort();
}

async function loadConfig() {
    try {
        return { write: false, ...(await fetchJson("/api/config")) };
    } catch (e) {
        return { write: false, problem: `${e.message}: writes disabled` };
    }
}

function useSession() {
    const [, setTick] = useState(0);
    const session = useMemo(() => new Session(msgpackUrl(location), () => setTick((t) => t + 1)), []);
    useEffect(() => () => session.stop(), [session]);
    return session;
}

function PvRow({ entry, selected, onSelect }) {
    const { pv, error } = entry;
    const top = pv?.value;
    const sev = severityOf(top);
    return (
        <tr className={`pv-row ${selected ? "selected" : ""}`} onClick={onSelect} data-pv={entry.name}>
            <td className="name">
                <span className={`dot ${error ? "dot-error" : pv ? `sev-${sev}` : "dot-wait"}`} />
                {entry.name}
            </td>
            <td className={`value sev-text-${sev}`} data-testid="pv-value">
                {error ? <span className="refused">{error}</span> : formatValue(pv)}
            </td>
            <td className="units">{top?.display?.units ?? ""}</td>
            <td className={`severity sev-text-${sev}`} title={top?.alarm?.message ?? ""}>{pv && sev ? SEVERITIES[sev] : ""}</td>
            <td className="time">{formatTime(pv)}</td>
        </tr>
    );
}

export function App() {
    const session = useSession();
    const [config, setConfig] = useState({ write: false });
    const [names, setNames] = useState([]);
    const [problem, setProblem] = useState(null);
    const [loaded, setLoaded] = useState(false);
    const [filter, setFilter] = useState("");
    const [selected, setSelected] = useState(null);

    useEffect(() => {
        loadConfig().then(setConfig);
        loadNames().then(
            (n) => {
                setNames(n);
                setLoaded(true);
                if (n.length === 1) setSelected(n[0]);
            },
            (e) => setProblem(`${e.message}. Give PVs in the URL: ?pvs=name1,name2`),
        );
    }, []);

    useEffect(() => session.watch(names), [session, names]);

    const shown = names.filter((n) => n.toLowerCase().includes(filter.toLowerCase()));
    const entry = selected && session.pvs.get(selected);

    return (
        <div className="app">
            <header>
                <h1>pvwire</h1>
                <span className={`conn ${session.status === "connected" ? "up" : "down"}`} data-testid="connection">
                    {session.status}
                </span>
                <span className={`badge ${config.write ? "write" : ""}`} title={config.problem ?? ""}>
                    {config.write ? "writes enabled" : "read-only"}
                </span>
                {config.user && <span className="muted">as {config.user}</span>}
                {config.version && <span className="muted version">pvwire {config.version}</span>}
            </header>
            <main>
                <section className="list">
                    <input
                        className="filter"
                        placeholder={`Filter ${names.length} PVs…`}
                        value={filter}
                        onChange={(e) => setFilter(e.target.value)}
                        data-testid="filter"
                    />
                    {problem && <p className="note">{problem}</p>}
                    {!problem && loaded && names.length === 0 && (
                        <p className="note">The server lists no PVs. Name some in the URL: ?pvs=name1,name2</p>
                    )}
                    <div className="table-wrap">
                        <table className="pvs">
                            <thead>
                                <tr><th>PV</th><th>Value</th><th>Units</th><th>Alarm</th><th>Time</th></tr>
                            </thead>
                            <tbody>
                                {shown.map((n) => {
                                    const e = session.pvs.get(n);
                                    return e && <PvRow key={n} entry={e} selected={n === selected} onSelect={() => setSelected(n)} />;
                                })}
                            </tbody>
                        </table>
                    </div>
                </section>
                <section className="detail">
                    {entry ? (
                        <Detail key={selected} entry={entry} session={session} canWrite={config.write} />
                    ) : (
                        <p className="muted">Select a PV to see it in detail.</p>
                    )}
                </section>
            </main>
        </div>
    );
}
