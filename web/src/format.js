// How a PV's value reads on the page: Normative Type by its id, numbers by display.precision,
// enums by their choice names.

export const SEVERITIES = ["NO_ALARM", "MINOR", "MAJOR", "INVALID"];

/** The Normative Type of a PV's type ("NTScalar", "NTEnum", ...), or "" for other structures. */
export function ntKind(type) {
    const m = /^epics:nt\/(NT\w+):/.exec(type?.id ?? "");
    return m ? m[1] : "";
}

export function severityOf(value) {
    const s = value?.alarm?.severity;
    return typeof s === "number" && s >= 0 && s <= 3 ? s : 0;
}

const isNumeric = (v) => typeof v === "number" || typeof v === "bigint";

export function formatNumber(v, precision) {
    if (typeof v === "bigint") return v.toString();
    if (Number.isInteger(v) && precision === undefined) return String(v);
    if (typeof precision === "number" && precision >= 0 && precision <= 17) {
        // too small for its fixed digits (1.3e-6 at precision 2): exponential, not "0.00"
        const tiny = v !== 0 && Math.abs(v) < 10 ** -precision;
        return tiny ? v.toExponential(Math.max(precision, 1)) : v.toFixed(precision);
    }
    return Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(4) : String(+v.toPrecision(7));
}

function summariseArray(a, precision) {
    const n = a.length;
    const head = Array.from(a.slice(0, 4), (x) => (isNumeric(x) ? formatNumber(x, precision) : String(x)));
    return `[${n}] ${head.join(", ")}${n > 4 ? ", …" : ""}`;
}

function compact(v) {
    return JSON.stringify(v, (_, x) => (typeof x === "bigint" ? x.toString() : ArrayBuffer.isView(x) ? `[${x.length}]` : x));
}

/** The one-line text of a PV's value for the list. */
export function formatValue(pv) {
    const top = pv?.value;
    if (!top) return "";
    const kind = ntKind(pv.type);
    const v = top.value;
    const precision = top.display?.precision;
    if (kind === "NTEnum") return v?.choices?.[v.index] ?? `index ${v?.index}`;
    if (kind === "NTTable") {
        const cols = Object.values(v ?? {});
        return `table ${cols[0]?.length ?? 0} × ${cols.length}`;
    }
    if (kind === "NTNDArray") {
        const dims = (top.dimension ?? []).map((d) => d.size).join(" × ");
        return `image ${dims || "(no dimensions)"}`;
    }
    if (isNumeric(v)) return formatNumber(v, precision);
    if (typeof v === "boolean" || typeof v === "string") return String(v);
    if (ArrayBuffer.isView(v) || Array.isArray(v)) return summariseArray(v, precision);
    if (v === undefined) return compact(top);
    return compact(v);
}

export function formatTime(pv) {
    const t = pv?.value?.timeStamp;
    if (!t?.secondsPastEpoch) return "";
    const ms = Number(t.secondsPastEpoch) * 1000 + Math.floor(Number(t.nanoseconds ?? 0) / 1e6);
    const d = new Date(ms);
    return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

/** How the detail pane shows a PV: "scalar", "enum", "array", "table", "image" or "tree". */
export function viewOf(pv) {
    const kind = ntKind(pv?.type);
    const v = pv?.value?.value;
    if (kind === "NTEnum") return "enum";
    if (kind === "NTTable") return "table";
    if (kind === "NTNDArray") return "image";
    if (ArrayBuffer.isView(v)) return "array";
    if (isNumeric(v) || typeof v === "boolean") return "scalar";
    if (typeof v === "string") return "text";
    return "tree";
}

/** The field a put from the page writes, or null when the page cannot put this PV. */
export function putField(pv) {
    switch (viewOf(pv)) {
        case "scalar":
        case "text":
            return "value";
        case "enum":
            return "value.index";
        default:
            return null;
    }
}

export function jsonText(v) {
    return JSON.stringify(
        v,
        (_, x) => (typeof x === "bigint" ? x.toString() : ArrayBuffer.isView(x) ? Array.from(x.slice(0, 32), Number) : x),
        2,
    );
}
