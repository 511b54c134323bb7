// The selected PV: value, alarm, writability, a put form, and the view its type calls for.

import { useEffect, useState } from "react";
import { ArrayPlot, LiveChart } from "./LiveChart.jsx";
import { ImageView } from "./ImageView.jsx";
import { TableView } from "./TableView.jsx";
import { PutForm } from "./PutForm.jsx";
import { SEVERITIES, formatTime, formatValue, jsonText, ntKind, severityOf, viewOf } from "./format.js";

function View({ pv, ring }) {
    const top = pv.value;
    const units = top.display?.units;
    switch (viewOf(pv)) {
        case "scalar":
            return ring && <LiveChart ring={ring} units={units} />;
        case "array":
            return <ArrayPlot values={top.value} units={units} />;
        case "table":
            return <TableView value={top} />;
        case "image":
            return <ImageView value={top} />;
        case "enum":
            return (
                <ul className="choices">
                    {(top.value.choices ?? []).map((c, i) => (
                        <li key={i} className={i === top.value.index ? "current" : ""}>{c}</li>
                    ))}
                </ul>
            );
        default:
            return <pre className="tree">{jsonText(top)}</pre>;
    }
}

export function Detail({ entry, session, canWrite }) {
    const [ring, setRing] = useState(null);
    useEffect(() => {
        setRing(session.chart(entry.name));
        return () => session.chart(null);
    }, [session, entry.name]);

    const { pv, error } = entry;
    if (error && !pv) return <p className="refused">{entry.name}: {error}</p>;
    if (!pv?.value) return <p className="muted">{entry.name}: connecting…</p>;
    const top = pv.value;
    const sev = severityOf(top);
    return (
        <div>
            <div className="detail-head">
                <h2>{pv.name}</h2>
                <span className="muted">{ntKind(pv.type) || pv.type.id || "structure"}</span>
                <span className={`badge ${pv.writable ? "" : "ro"}`}>{pv.writable ? "writable" : "read-only"}</span>
            </div>
            {top.display?.description && <p className="muted">{top.display.description}</p>}
            <div className="big-value">
                <span className={`sev-text-${sev}`} data-testid="detail-value">{formatValue(pv)}</span>
                <span className="units">{top.display?.units}</span>
            </div>
            <p className="meta">
                <span className={`sev-text-${sev}`}>{SEVERITIES[sev]}</span>
                {top.alarm?.message && <span> {top.alarm.message}</span>}
                <span className="muted">
                    {[formatTime(pv), `${pv.updates} updates`, pv.overruns ? `${pv.overruns} squashed` : ""]
                        .filter(Boolean)
                        .map((t) => ` · ${t}`)
                        .join("")}
                </span>
            </p>
            {error && <p className="refused">{error}</p>}
            {canWrite && pv.writable && <PutForm pv={pv} session={session} />}
            <View pv={pv} ring={ring} />
        </div>
    );
}
