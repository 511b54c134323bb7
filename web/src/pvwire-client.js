// pvwire's msgpack protocol (docs/msgpack-protocol.md) as a small ES module, for the page and
// for Node.js scripts alike: give it a WebSocket class (the browser's, or the `ws` package's).
//
//   const c = new Connection("ws://host:8075/msgpack");
//   await c.ready;
//   const sub = c.monitor("demo:counter", { onUpdate: (pv) => ..., onError: (text) => ... });
//   await c.put("demo:setpoint", 2.5);       // throws PutRefused with the server's text
//   sub.close(); c.close();
//
// A monitor runs with flow control: the server sends at most WINDOW updates beyond our acks,
// and we ack only what the JavaScript thread has handled, so a slow tab makes the server squash
// (newest value wins) instead of queueing in the browser.

import { decode, encode, ExtensionCodec } from "@msgpack/msgpack";
import { STRUCT, applyPartial, codeOf, fieldTable } from "./partial-values.js";

export { applyPartial, codeOf, fieldTable };

export const Kind = {
    hello: 0, ready: 1, echo: 2, open: 3, close: 4, init: 6, get: 7, put: 8,
    start: 11, ack: 13, update: 14, finish: 15, destroy: 22, message: 24, error: 25,
};

const MONITOR_WINDOW = 64;
const ACK_FLUSH_MS = 20;
const ECHO_PERIOD_MS = 15_000; // the server closes connections silent for 40 s
const NO_SID = 4294967295;

export class ProtocolError extends Error {}
/** A put the server refused; `message` is the server's status text. */
export class PutRefused extends Error {}

function check(ok, what) {
    if (!ok) throw new ProtocolError(what);
}

export function statusOk(status) {
    return status === null || status === undefined || status[0] <= 1;
}

export function statusText(status) {
    if (status === null || status === undefined) return "ok";
    return String(status[1] || `severity ${status[0]}`);
}

// ---- frames: "MP", version 1, pad count, body length uint32 LE; bodies padded to 8 bytes ----

export function frame(message) {
    const body = encode(message, { extensionCodec, ignoreUndefined: true });
    const pad = (8 - (body.length % 8)) % 8;
    const out = new Uint8Array(8 + body.length + pad);
    out[0] = 0x4d;
    out[1] = 0x50;
    out[2] = 1;
    out[3] = pad;
    new DataView(out.buffer).setUint32(4, body.length + pad, true);
    out.set(body, 8);
    return out;
}

// The message bodies of one WebSocket message (whole frames only, docs/transports.md).
export function* bodies(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    while (at < bytes.length) {
        check(bytes.length - at >= 8, `a WebSocket message ends inside a frame header`);
        check(bytes[at] === 0x4d && bytes[at + 1] === 0x50, `a frame does not start with "MP" at byte ${at}`);
        check(bytes[at + 2] === 1, `frame version ${bytes[at + 2]}, expected 1`);
        const pad = bytes[at + 3];
        const length = view.getUint32(at + 4, true);
        check(pad <= 7 && pad <= length, `pad count ${pad} for a body of ${length} bytes`);
        check(at + 8 + length <= bytes.length, `a frame of ${8 + length} bytes is cut by its WebSocket message`);
        yield bytes.subarray(at + 8, at + 8 + length - pad);
        at += 8 + length;
    }
}

// ---- numeric arrays: the aligned ext (type 1) or a bin, as typed arrays ----

// The ext carries no element type (the operation's type has it), so it decodes to this holder.
class ArrayBytes {
    constructor(bytes) {
        this.bytes = bytes;
    }
}

const extensionCodec = new ExtensionCodec();
extensionCodec.register({
    type: 1,
    encode: () => null, // the page sends no numeric arrays
    decode: (data) => {
        check(data.length >= 1 && data[0] <= 7 && 1 + data[0] <= data.length, "aligned array ext with a bad pad count");
        return new ArrayBytes(data.subarray(1 + data[0]));
    },
});

const ELEMENT_ARRAYS = {
    0x00: Uint8Array, 0x20: Int8Array, 0x21: Int16Array, 0x22: Int32Array, 0x23: BigInt64Array,
    0x24: Uint8Array, 0x25: Uint16Array, 0x26: Uint32Array, 0x27: BigUint64Array,
    0x42: Float32Array, 0x43: Float64Array,
};

// A view of the elements when they are aligned in their buffer (the sender aligned them in the
// frame, and frames keep 8-byte alignment within a WebSocket message), else a copy.
function typedArray(code, bytes) {
    const View = ELEMENT_ARRAYS[code & 0xe7];
    check(View !== undefined, `type code 0x${code.toString(16)} is not a numeric array`);
    const size = View.BYTES_PER_ELEMENT;
    check(bytes.length % size === 0, `${bytes.length} bytes are not whole ${View.name} elements`);
    if (bytes.byteOffset % size === 0) return new View(bytes.buffer, bytes.byteOffset, bytes.length / size);
    return new View(bytes.slice().buffer);
}

// ---- types and partial values (docs/msgpack.md) ----

const UNION = 0x81;
const ANY = 0x82;
const STRUCT_ARRAY = 0x88;
const UNION_ARRAY = 0x89;
const ANY_ARRAY = 0x8a;

const isArrayCode = (code) => code < 0x80 && (code & 0x18) !== 0;
const isNumericArrayCode = (code) => isArrayCode(code) && (code & 0xe0) !== 0x60;

// A field's msgpack value as a JS value: structures become objects, numeric arrays typed arrays,
// unions {member: value}, anys their held value.
export function toJs(type, value) {
    const code = codeOf(type);
    if (value === null || value === undefined) return null;
    switch (code) {
        case STRUCT:
            return Object.fromEntries(type.m.map(([name, member], i) => [name, toJs(member, value[i])]));
        case UNION:
            return value.length === 0 ? null : { [type.m[value[0]][0]]: toJs(type.m[value[0]][1], value[1]) };
        case ANY:
            return value.length === 0 ? null : toJs(value[0], value[1]);
        case STRUCT_ARRAY:
        case UNION_ARRAY:
            return value.map((e) => toJs(type.e, e));
        case ANY_ARRAY:
            return value.map((e) => toJs(ANY, e));
    }
    if (isNumericArrayCode(code)) {
        const bytes = value instanceof ArrayBytes ? value.bytes : value;
        check(bytes instanceof Uint8Array, `expected array bytes for type 0x${code.toString(16)}`);
        return typedArray(code, bytes);
    }
    return value;
}

// The offset of a dotted field path in a field table, or -1.
export function offsetOf(table, path) {
    return table.findIndex((f) => f.path === path);
}

// A JS value as the msgpack value of a scalar field of `type` (strings typed by a user are parsed
// here, so the server's refusal is about the value, not its form).
export function scalarFromText(type, text) {
    const code = codeOf(type);
    if (code === 0x00) {
        if (/^(1|true|yes|on)$/i.test(text.trim())) return true;
        if (/^(0|false|no|off)$/i.test(text.trim())) return false;
        throw new Error(`"${text}" is not a boolean (true/false)`);
    }
    if (code === 0x60 || code === 0x83) return text;
    const n = Number(text);
    if (text.trim() === "" || Number.isNaN(n)) throw new Error(`"${text}" is not a number`);
    if ((code & 0xe0) === 0x20 && !Number.isInteger(n)) throw new Error(`"${text}" is not an integer`);
    return n;
}

// ---- one connection ----

export class Connection {
    /**
     * @param url  ws:// or wss:// URL of the /msgpack endpoint
     * @param options.WebSocket  a WebSocket class (default: the global one)
     * @param options.onClose  called once with a reason when the connection ends
     */
    constructor(url, { WebSocket: WS = globalThis.WebSocket, onClose } = {}) {
        this.nextId = 1;
        this.waiting = new Map(); // "kind:id" -> {resolve, reject}
        this.operations = new Map(); // ioid -> monitor state
        this.channels = new Map(); // name -> Promise<{sid, writable}>
        this.channelNames = new Map(); // cid -> name
        this.putOperations = new Map(); // "name\0field\0lane" -> {ready: Promise<{ioid, type, offset}>, queue}
        this.onClose = onClose;
        this.closed = null;
        this.ws = new WS(url);
        this.ws.binaryType = "arraybuffer";
        this.ready = new Promise((resolve, reject) => this.#await(`${Kind.ready}:`, resolve, reject));
        this.ws.onmessage = (ev) => this.#receive(ev.data);
        this.ws.onclose = (ev) => this.#end(`the server closed the connection (code ${ev.code})`);
        this.ws.onerror = () => this.#end(`cannot reach ${url}`);
        this.echoTimer = setInterval(() => this.#send([Kind.echo, new Uint8Array(0)]), ECHO_PERIOD_MS);
    }

    close() {
        this.#end("closed");
        this.ws.close();
    }

    /** Opens `name` once per connection; resolves to {sid, writable}. */
    channel(name) {
        if (!this.channels.has(name)) {
            const cid = this.nextId++;
            this.channelNames.set(cid, name);
            const opened = this.ready.then(() => {
                this.#send([Kind.open, cid, name]);
                return this.#reply(Kind.open, cid);
            }).then(([, , sid, status, writable]) => {
                if (!statusOk(status) || sid === NO_SID) throw new Error(`cannot open ${name}: ${statusText(status)}`);
                // servers before the writable element: assume writable, the put's status decides
                return { sid, writable: writable !== false };
            });
            opened.catch(() => this.channels.delete(name));
            this.channels.set(name, opened);
        }
        return this.channels.get(name);
    }

    /**
     * Subscribes to `name`. onUpdate(pv) gets {value: the whole structure as JS, type, writable,
     * overruns}; the same object is updated in place. onError(text) on failure. Returns {close()}.
     */
    monitor(name, { onUpdate, onError = () => {}, window = MONITOR_WINDOW }) {
        const ioid = this.nextId++;
        const op = { name, ioid, window, unacked: 0, state: {}, table: null, live: true, pv: null };
        this.channel(name)
            .then(async ({ sid, writable }) => {
                if (!op.live) return;
                const init = await this.#init(ioid, sid, "monitor", window);
                if (!op.live) return this.#send([Kind.destroy, ioid]); // closed while initialising
                op.table = fieldTable(init.type);
                op.pv = { name, type: init.type, writable, value: null, overruns: 0, updates: 0 };
                op.onUpdate = onUpdate;
                op.onError = onError;
                this.operations.set(ioid, op);
                this.#send([Kind.start, ioid]);
            })
            .catch((e) => op.live && onError(e.message));
        return {
            close: () => {
                op.live = false;
                if (this.operations.delete(ioid)) this.#send([Kind.destroy, ioid]);
            },
        };
    }

    /**
     * Puts `text` (as typed by a user, or a number) into the field `field` of `name`; throws
     * PutRefused with the server's text. Puts to one field share one put operation and run one
     * after the other, as the protocol wants one execution at a time per operation; a writer
     * that wants several in flight gives them different `lane`s (one operation each).
     */
    put(name, field, text, lane = 0) {
        const key = `${name}\u0000${field}\u0000${lane}`;
        let op = this.putOperations.get(key);
        if (!op) {
            op = { ready: this.#initPut(name, field), queue: Promise.resolve() };
            op.ready.catch(() => this.putOperations.delete(key));
            this.putOperations.set(key, op);
        }
        const done = op.queue.then(async () => {
            const { ioid, type, offset } = await op.ready;
            this.#send([Kind.put, ioid, false, [[offset], scalarFromText(type, String(text))]]);
            const [, , , status] = await this.#reply(Kind.put, ioid);
            if (!statusOk(status)) throw new PutRefused(statusText(status));
        });
        op.queue = done.catch(() => {});
        return done;
    }

    async #initPut(name, field) {
        const { sid } = await this.channel(name);
        const ioid = this.nextId++;
        const table = fieldTable((await this.#init(ioid, sid, "put", 0)).type);
        const offset = offsetOf(table, field);
        if (offset < 0) {
            this.#send([Kind.destroy, ioid]);
            throw new Error(`${name} has no field ${field}`);
        }
        return { ioid, type: table[offset].type, offset };
    }

    async #init(ioid, sid, operation, window) {
        this.#send([Kind.init, ioid, sid, operation, [], window]);
        const [, , status, type] = await this.#reply(Kind.init, ioid);
        if (!statusOk(status)) {
            if (operation === "put") throw new PutRefused(statusText(status));
            throw new Error(`${operation}: ${statusText(status)}`);
        }
        check(type !== null && codeOf(type) === STRUCT, `${operation}: expected a structure type`);
        return { type };
    }

    #send(message) {
        if (!this.closed && this.ws.readyState === 1) this.ws.send(frame(message));
    }

    #await(key, resolve, reject) {
        if (this.closed) reject(new Error(this.closed));
        else this.waiting.set(key, { resolve, reject });
    }

    #reply(kind, id) {
        return new Promise((resolve, reject) => this.#await(`${kind}:${id}`, resolve, reject));
    }

    #settle(key, message) {
        const w = this.waiting.get(key);
        if (w) {
            this.waiting.delete(key);
            w.resolve(message);
        }
    }

    #receive(data) {
        try {
            for (const body of bodies(new Uint8Array(data))) this.#dispatch(decode(body, { extensionCodec }));
            this.#flushAcks(false);
        } catch (e) {
            this.#end(`bad message from the server: ${e.message}`);
            this.ws.close();
        }
    }

    #dispatch(m) {
        check(Array.isArray(m) && Number.isInteger(m[0]), "a message is [kind, ...]");
        switch (m[0]) {
            case Kind.hello:
                check(Array.isArray(m[2]) && m[2].includes("anonymous"), "the server does not offer anonymous");
                this.#send([Kind.hello, 1, "anonymous", []]);
                return;
            case Kind.ready:
                if (statusOk(m[1])) this.#settle(`${Kind.ready}:`, m);
                else this.#end(`connection refused: ${statusText(m[1])}`);
                return;
            case Kind.update:
                return this.#update(m);
            case Kind.finish:
                return this.#finish(m[1], m[2]);
            case Kind.close:
                return this.#channelGone(m[2]);
            case Kind.error:
                return this.#end(`protocol error reported by the server: ${m[1]}`);
            case Kind.echo:
            case Kind.message:
                return;
            default:
                this.#settle(`${m[0]}:${m[1]}`, m);
        }
    }

    #update([, ioid, partial, overrun]) {
        const op = this.operations.get(ioid);
        if (!op) return;
        applyPartial(op.table, partial, op.state, toJs);
        op.pv.value = op.state.root;
        op.pv.updates++;
        if (Array.isArray(overrun) && overrun.length) op.pv.overruns++;
        op.unacked++;
        op.onUpdate(op.pv);
    }

    // Acks go out in batches: at half the window at once, the rest after a short delay.
    #flushAcks(force) {
        let pending = false;
        for (const op of this.operations.values()) {
            if (op.unacked >= op.window / 2 || (force && op.unacked > 0)) {
                this.#send([Kind.ack, op.ioid, op.unacked]);
                op.unacked = 0;
            }
            pending ||= op.unacked > 0;
        }
        if (pending && !this.ackTimer)
            this.ackTimer = setTimeout(() => {
                this.ackTimer = null;
                this.#flushAcks(true);
            }, ACK_FLUSH_MS);
    }

    #finish(ioid, status) {
        const op = this.operations.get(ioid);
        if (!op) return;
        this.operations.delete(ioid);
        op.onError(`subscription ended: ${statusText(status)}`);
    }

    // The server closed a channel (its PV is gone): its monitors end, the next use reopens it.
    #channelGone(cid) {
        const name = this.channelNames.get(cid);
        this.channelNames.delete(cid);
        this.channels.delete(name);
        for (const key of this.putOperations.keys()) if (key.startsWith(`${name}\u0000`)) this.putOperations.delete(key);
        for (const [ioid, op] of this.operations)
            if (op.name === name) {
                this.operations.delete(ioid);
                op.onError?.("the server closed the channel");
            }
    }

    #end(reason) {
        if (this.closed) return;
        this.closed = reason;
        clearInterval(this.echoTimer);
        clearTimeout(this.ackTimer);
        for (const w of this.waiting.values()) w.reject(new Error(reason));
        this.waiting.clear();
        for (const op of this.operations.values()) op.onError?.(reason);
        this.operations.clear();
        this.onClose?.(reason);
    }
}
