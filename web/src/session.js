// The page's live state outside React: one msgpack connection (reopened when it drops), a
// monitor per listed PV, and the sample ring of the charted PV. React re-renders at most
// LIST_REFRESH_MS apart (see onChange); the chart draws itself once per animation frame.

import { Connection, PutRefused } from "./pvwire-client.js";
import { SampleRing } from "./sample-ring.js";

const LIST_REFRESH_MS = 100;
const RECONNECT_MS = 2000;
export const CHART_WINDOW_S = 60;
const CHART_CAPACITY = 1 << 17; // 60 s at up to ~2 kHz

export function msgpackUrl(location) {
    return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/msgpack`;
}

// Seconds since 1970 of a value's timeStamp (pvData's epoch is POSIX), or null.
export function stampSeconds(value) {
    const t = value?.timeStamp;
    if (!t || t.secondsPastEpoch === undefined) return null;
    return Number(t.secondsPastEpoch) + Number(t.nanoseconds ?? 0) * 1e-9;
}

export class Session {
    constructor(url, onChange) {
        this.url = url;
        this.onChange = onChange;
        this.pvs = new Map(); // name -> {name, pv, error}
        this.subscriptions = new Map();
        this.charted = null; // {name, ring}
        this.status = "connecting";
        this.refreshTimer = null;
        this.stopped = false;
        this.#connect();
    }

    #connect() {
        this.connection = new Connection(this.url, { onClose: (reason) => this.#lost(reason) });
        this.connection.ready.then(
            () => {
                this.status = "connected";
                this.changed();
            },
            () => {},
        );
        for (const name of this.pvs.keys()) this.#subscribe(name);
    }

    #lost(reason) {
        if (this.stopped) return;
        this.status = `disconnected: ${reason}; retrying`;
        this.subscriptions.clear();
        this.changed();
        setTimeout(() => !this.stopped && this.#connect(), RECONNECT_MS);
    }

    stop() {
        this.stopped = true;
        this.connection.close();
        clearTimeout(this.refreshTimer);
    }

    /** Monitors exactly `names` from now on. */
    watch(names) {
        for (const name of [...this.pvs.keys()])
            if (!names.includes(name)) {
                this.subscriptions.get(name)?.close();
                this.subscriptions.delete(name);
                this.pvs.delete(name);
            }
        for (const name of names)
            if (!this.pvs.has(name)) {
                this.pvs.set(name, { name, pv: null, error: null });
                this.#subscribe(name);
            }
        this.changed();
    }

    #subscribe(name) {
        const entry = this.pvs.get(name);
        const sub = this.connection.monitor(name, {
            onUpdate: (pv) => {
                entry.pv = pv;
                entry.error = null;
                if (this.charted?.name === name) this.#sample(pv.value);
                this.changed();
            },
            onError: (text) => {
                entry.error = text;
                this.changed();
            },
        });
        this.subscriptions.set(name, sub);
    }

    /** Starts a chart of `name`'s value (null: none); the ring starts empty. */
    chart(name) {
        this.charted = name ? { name, ring: new SampleRing(CHART_CAPACITY) } : null;
        const v = name && this.pvs.get(name)?.pv?.value;
        if (v) this.#sample(v);
        return this.charted?.ring ?? null;
    }

    #sample(value) {
        const y = value?.value;
        if (typeof y !== "number" && typeof y !== "bigint" && typeof y !== "boolean") return;
        this.charted.ring.push(stampSeconds(value) ?? Date.now() / 1000, Number(y));
    }

    /** Puts; resolves to null on success or the server's refusal text. */
    async put(name, field, text) {
        try {
            await this.connection.put(name, field, text);
            return null;
        } catch (e) {
            return e instanceof PutRefused ? e.message : `put failed: ${e.message}`;
        }
    }

    // Coalesces change notices: React hears of them at most every LIST_REFRESH_MS.
    changed() {
        if (this.refreshTimer) return;
        this.refreshTimer = setTimeout(() => {
            this.refreshTimer = null;
            this.onChange();
        }, LIST_REFRESH_MS);
    }
}
