// An NTTable: its labels as the header, one row per element of the columns.

import { formatNumber } from "./format.js";

const MAX_ROWS = 1000;

export function TableView({ value }) {
    const columns = Object.entries(value.value ?? {});
    const labels = value.labels ?? columns.map(([name]) => name);
    const rows = Math.min(columns[0]?.[1]?.length ?? 0, MAX_ROWS);
    const cell = (v) => (typeof v === "number" || typeof v === "bigint" ? formatNumber(v) : String(v));
    return (
        <div className="table-wrap">
            <table className="nttable" data-testid="nttable">
                <thead>
                    <tr>{columns.map(([name], i) => <th key={name}>{labels[i] ?? name}</th>)}</tr>
                </thead>
                <tbody>
                    {Array.from({ length: rows }, (_, r) => (
                        <tr key={r}>{columns.map(([name, col]) => <td key={name}>{cell(col[r])}</td>)}</tr>
                    ))}
                </tbody>
            </table>
            {columns[0]?.[1]?.length > MAX_ROWS && <p className="muted">first {MAX_ROWS} rows shown</p>}
        </div>
    );
}
