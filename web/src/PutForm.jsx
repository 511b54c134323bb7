// A put from the page: a value (or an enum's choice), then a confirmation dialog, then the
// server's answer. Shown only when the server allows writes from the web and the PV is writable.

import { useState } from "react";
import { putField, viewOf } from "./format.js";

function ValueInput({ pv, text, setText }) {
    const v = pv.value.value;
    if (viewOf(pv) === "enum")
        return (
            <select value={text} onChange={(e) => setText(e.target.value)} data-testid="put-input">
                {(v.choices ?? []).map((c, i) => <option key={i} value={String(i)}>{c}</option>)}
            </select>
        );
    if (typeof v === "boolean")
        return (
            <select value={text} onChange={(e) => setText(e.target.value)} data-testid="put-input">
                <option value="true">true</option>
                <option value="false">false</option>
            </select>
        );
    return <input value={text} onChange={(e) => setText(e.target.value)} placeholder="new value" data-testid="put-input" />;
}

function initialText(pv) {
    const v = pv.value.value;
    return viewOf(pv) === "enum" ? String(v.index ?? 0) : String(v ?? "");
}

function shown(pv, text) {
    return viewOf(pv) === "enum" ? pv.value.value.choices?.[Number(text)] ?? text : text;
}

export function PutForm({ pv, session }) {
    const [text, setText] = useState(() => initialText(pv));
    const [confirming, setConfirming] = useState(false);
    const [result, setResult] = useState(null);
    const field = putField(pv);
    if (!field) return null;

    async function confirmed() {
        setConfirming(false);
        setResult({ busy: true });
        const refusal = await session.put(pv.name, field, text);
        setResult(refusal ? { error: refusal } : { ok: `wrote ${shown(pv, text)}` });
    }

    return (
        <form className="put" onSubmit={(e) => (e.preventDefault(), setConfirming(true))}>
            <ValueInput pv={pv} text={text} setText={setText} />
            <button type="submit" data-testid="put-button">Put…</button>
            {result?.busy && <span className="muted">writing…</span>}
            {result?.ok && <span className="ok" data-testid="put-result">{result.ok}</span>}
            {result?.error && <span className="refused" data-testid="put-error">{result.error}</span>}
            {confirming && (
                <div className="modal-backdrop">
                    <div className="modal" role="dialog" aria-modal="true" data-testid="confirm-dialog">
                        <h3>Write to {pv.name}?</h3>
                        <p>
                            New value: <b>{shown(pv, text)}</b>
                        </p>
                        <div className="modal-buttons">
                            <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
                            <button type="button" className="danger" onClick={confirmed} data-testid="confirm-put" autoFocus>
                                Write
                            </button>
                        </div>
                    </div>
                </div>
            )}
        </form>
    );
}
