// pvwire's msgpack protocol (docs/msgpack-protocol.md) spoken from Node.js with nothing but `ws`
// and `@msgpack/msgpack`: the proof that a peer needs no pvData codec of its own.
//
//   node msgpack_client.mjs URL TICKING_PV [ARRAY_PV=JSON_VALUES ...]
//   (or PVWIRE_MSGPACK_URL, PVWIRE_TICK_PV and PVWIRE_ARRAY_PVS="a=[1,2] b=[3]" in the environment)
//
// URL is the server's msgpack WebSocket endpoint (ws://HOST:PORT/msgpack). The script does the
// hello exchange, opens TICKING_PV, GETs it and prints the value, then MONITORs it with flow
// control until three updates with three different values arrived. Each ARRAY_PV is read
// with a GET whose value must equal JSON_VALUES, element for element, delivered as the
// aligned array ext (type 1) and turned into the typed array of the element type.
// Exit status 0 when all of that held, 1 with a message on the first failure or after 10 s.

import { decode, encode, ExtensionCodec } from "@msgpack/msgpack";
import WebSocket from "ws";
// fieldTable and applyPartial are the web view's (plain JS, no imports of their own)
import { STRUCT, applyPartial, codeOf, fieldTable } from "../../web/src/partial-values.js";

const TIMEOUT_MS = 10_000;
const MONITOR_UPDATES = 3;
const MONITOR_WINDOW = 4;

const Kind = {
    hello: 0, ready: 1, open: 3, init: 6, get: 7, start: 11, ack: 13, update: 14,
    destroy: 22, message: 24, error: 25,
};

class Failure extends Error {}
function check(ok, what) {
    if (!ok) throw new Failure(what);
}

// ---- frames: "MP", version 1, pad count, body length uint32 LE; bodies padded to 8 bytes --------

function frame(message) {
    const body = encode(message);
    const pad = (8 - (body.length % 8)) % 8;
    const out = Buffer.alloc(8 + body.length + pad);
    out.write("MP", 0, "latin1");
    out[2] = 1;
    out[3] = pad;
    out.writeUInt32LE(body.length + pad, 4);
    out.set(body, 8);
    return out;
}

// One WebSocket message holds whole frames only (docs/transports.md): a partial one is an error.
function* bodies(data) {
    let at = 0;
    while (at < data.length) {
        check(data.length - at >= 8, `a WebSocket message ends inside a frame header (${data.length - at} bytes)`);
        check(data[at] === 0x4d && data[at + 1] === 0x50, `a frame does not start with "MP" at byte ${at}`);
        check(data[at + 2] === 1, `frame version ${data[at + 2]}, expected 1`);
        const pad = data[at + 3];
        const length = data.readUInt32LE(at + 4);
        check(pad <= 7 && pad <= length, `pad count ${pad} for a body of ${length} bytes`);
        check(length % 8 === 0, `the server sent a body of ${length} bytes, not a multiple of 8`);
        check(at + 8 + length <= data.length, `a frame of ${8 + length} bytes is cut by its WebSocket message`);
        yield data.subarray(at + 8, at + 8 + length - pad);
        at += 8 + length;
    }
}

// ---- the aligned array ext (type 1): pad count p, p bytes of padding, the elements LE ------------

// The ext carries no element type: the operation's type has it (typedArray() below). The
// elements are copied into a fresh ArrayBuffer: the received Buffer may start anywhere in
// Node's buffer pool, and a typed array can only view bytes aligned to its element size.
// `bodyOffset` keeps where they lay in the frame's body, which the sender aligned.
class AlignedElements {
    constructor(bytes, bodyOffset) {
        this.bytes = bytes;
        this.bodyOffset = bodyOffset;
    }
}

const extensionCodec = new ExtensionCodec();
extensionCodec.register({
    type: 1,
    encode: () => null, // this client never sends arrays
    decode: (data, _type, body) => {
        check(data.length >= 1 && data[0] <= 7 && 1 + data[0] <= data.length, "aligned array ext with a bad pad count");
        const start = 1 + data[0];
        // new Uint8Array(view) copies; a Node Buffer's slice() would not
        return new AlignedElements(new Uint8Array(data.subarray(start)), data.byteOffset + start - body.byteOffset);
    },
});

const TYPED_ARRAYS = {
    0x21: Int16Array, 0x22: Int32Array, 0x23: BigInt64Array,
    0x25: Uint16Array, 0x26: Uint32Array, 0x27: BigUint64Array,
    0x42: Float32Array, 0x43: Float64Array,
};

// The elements as the typed array of `code`'s element type.
function typedArray(code, elements) {
    const View = TYPED_ARRAYS[code & ~0x18];
    check(View !== undefined, `type code 0x${code.toString(16)} is not an array of 2-, 4- or 8-byte elements`);
    check(elements instanceof AlignedElements, `a ${View.name} came as a bin, not the aligned array ext`);
    check(elements.bodyOffset % 8 === 0, `aligned array elements at body offset ${elements.bodyOffset}, not a multiple of 8`);
    const { bytes } = elements;
    check(bytes.length % View.BYTES_PER_ELEMENT === 0, `${bytes.length} bytes are not whole ${View.name} elements`);
    return new View(bytes.buffer, bytes.byteOffset, bytes.length / View.BYTES_PER_ELEMENT);
}

// ---- types and partial values (docs/msgpack.md) -----------------------------------------------

// A field's msgpack value as a JS value: structures become objects, numeric arrays typed arrays.
function toJs(type, value) {
    const code = codeOf(type);
    if (code === STRUCT) return Object.fromEntries(type.m.map(([name, member], i) => [name, toJs(member, value[i])]));
    if (value instanceof AlignedElements) return typedArray(code, value);
    return value;
}

function show(v) {
    if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${v.length}) [${Array.from(v).join(", ")}]`;
    return JSON.stringify(v, (_, x) => (typeof x === "bigint" ? x.toString() : x));
}

function statusText(status) {
    return status === null ? "ok" : `severity ${status[0]}: ${status[1]}`;
}

// ---- one connection -------------------------------------------------------------------------

class Connection {
    constructor(url) {
        this.queue = [];
        this.waiter = null;
        this.broken = null;
        this.ws = new WebSocket(url);
        this.ws.binaryType = "nodebuffer";
        this.ws.on("message", (data, isBinary) => this.#receive(data, isBinary));
        this.ws.on("error", (e) => this.#fail(new Failure(`WebSocket error: ${e.message}`)));
        this.ws.on("close", (code) => this.#fail(new Failure(`the server closed the WebSocket (code ${code})`)));
        this.nextId = 1;
    }

    #receive(data, isBinary) {
        try {
            check(isBinary, "the server sent a text WebSocket message");
            for (const body of bodies(data)) {
                const message = decode(body, { extensionCodec, context: body });
                check(Array.isArray(message) && Number.isInteger(message[0]), `a message is [kind, ...], got ${show(message)}`);
                if (message[0] === Kind.error) throw new Failure(`the server reports a protocol error: ${message[1]}`);
                if (message[0] === Kind.message) console.log(`server message for ioid ${message[1]}: ${message[3]}`);
                else this.queue.push(message);
            }
        } catch (e) {
            this.#fail(e);
            return;
        }
        this.#wake();
    }

    #fail(e) {
        this.broken ??= e;
        this.#wake();
    }

    #wake() {
        const w = this.waiter;
        this.waiter = null;
        w?.();
    }

    send(message) {
        this.ws.send(frame(message));
    }

    // The next message, which must be of `kind` (and of `ioid`, when given).
    async expect(kind, ioid) {
        while (this.queue.length === 0) {
            if (this.broken) throw this.broken;
            await new Promise((resolve) => (this.waiter = resolve));
        }
        const m = this.queue.shift();
        check(m[0] === kind, `expected a message of kind ${kind}, got ${show(m)}`);
        if (ioid !== undefined) check(m[1] === ioid, `expected ioid ${ioid}, got ${show(m)}`);
        return m;
    }

    async hello() {
        await new Promise((resolve, reject) => {
            this.ws.once("open", resolve);
            this.ws.once("error", (e) => reject(new Failure(`cannot connect: ${e.message}`)));
        });
        const [, version, methods] = await this.expect(Kind.hello);
        check(version === 1, `the server speaks version ${version}`);
        check(Array.isArray(methods) && methods.includes("anonymous"), `"anonymous" not offered: ${show(methods)}`);
        this.send([Kind.hello, 1, "anonymous", []]);
        const [, status] = await this.expect(Kind.ready);
        check(status === null || status[0] <= 1, `connection refused: ${statusText(status)}`);
    }

    async open(name) {
        const cid = this.nextId++;
        this.send([Kind.open, cid, name]);
        const [, gotCid, sid, status, writable] = await this.expect(Kind.open);
        check(gotCid === cid, `open reply for cid ${gotCid}, expected ${cid}`);
        // pvwire serve without --web-write: a web connection may write nothing
        check(writable === false, `open reply for ${name} says writable=${writable}, expected false`);
        check(status === null || status[0] <= 1, `cannot open ${name}: ${statusText(status)}`);
        return sid;
    }

    // INIT of `operation`; resolves to the operation's ioid and field table.
    async init(sid, operation, window = 0) {
        const ioid = this.nextId++;
        this.send([Kind.init, ioid, sid, operation, [], window]);
        const [, , status, type] = await this.expect(Kind.init, ioid);
        check(status === null || status[0] <= 1, `${operation} init failed: ${statusText(status)}`);
        check(type !== null && codeOf(type) === STRUCT, `${operation} init: expected a structure type, got ${show(type)}`);
        return { ioid, table: fieldTable(type) };
    }

    async get(name) {
        const sid = await this.open(name);
        const { ioid, table } = await this.init(sid, "get");
        this.send([Kind.get, ioid, true]);
        const [, , last, status, partial] = await this.expect(Kind.get, ioid);
        check(last === true, "the get reply does not confirm last");
        check(status === null || status[0] <= 1, `get ${name} failed: ${statusText(status)}`);
        return applyPartial(table, partial, {}, toJs).root;
    }

    // Updates of `name` until `count` different values were seen; every update acknowledged.
    async monitorValues(name, count) {
        const sid = await this.open(name);
        const { ioid, table } = await this.init(sid, "monitor", MONITOR_WINDOW);
        this.send([Kind.start, ioid]);
        const state = {};
        const values = [];
        while (values.length < count) {
            const [, , partial, overrun] = await this.expect(Kind.update, ioid);
            check(Array.isArray(overrun), `overrun is an array of offsets, got ${show(overrun)}`);
            applyPartial(table, partial, state, toJs);
            this.send([Kind.ack, ioid, 1]);
            const v = state.root?.value;
            console.log(`monitor ${name}: update ${values.length + 1}: value ${show(v)}`);
            check(!values.includes(v), `monitor ${name}: value ${show(v)} came again: the PV does not change`);
            values.push(v);
        }
        this.send([Kind.destroy, ioid]);
        return values;
    }

    close() {
        this.ws.removeAllListeners("close");
        this.ws.close();
    }
}

// ---- main -------------------------------------------------------------------------------------

function parseArgs(argv) {
    const url = argv[0] ?? process.env.PVWIRE_MSGPACK_URL;
    const tickPv = argv[1] ?? process.env.PVWIRE_TICK_PV;
    const arrayArgs = argv.length > 2 ? argv.slice(2) : (process.env.PVWIRE_ARRAY_PVS ?? "").split(/\s+/).filter(Boolean);
    if (!url || !tickPv) {
        console.error("usage: node msgpack_client.mjs ws://HOST:PORT/msgpack TICKING_PV [ARRAY_PV=[v,...] ...]");
        process.exit(2);
    }
    const arrays = arrayArgs.map((a) => {
        const eq = a.indexOf("=");
        if (eq <= 0) throw new Failure(`expected ARRAY_PV=[values], got "${a}"`);
        return { name: a.slice(0, eq), values: JSON.parse(a.slice(eq + 1)) };
    });
    return { url, tickPv, arrays };
}

async function run({ url, tickPv, arrays }) {
    const c = new Connection(url);
    await c.hello();
    console.log(`connected to ${url}`);

    const got = (await c.get(tickPv))?.value;
    check(typeof got === "number", `get ${tickPv}: value ${show(got)} is not a number`);
    console.log(`get ${tickPv}: value ${show(got)}`);

    for (const { name, values } of arrays) {
        const v = (await c.get(name))?.value;
        check(ArrayBuffer.isView(v), `get ${name}: value ${show(v)} is not a typed array`);
        console.log(`get ${name}: value ${show(v)}`);
        check(v.length === values.length, `get ${name}: ${v.length} elements, served ${values.length}`);
        values.forEach((want, i) => check(v[i] === want, `get ${name}: element ${i} is ${v[i]}, served ${want}`));
    }

    const seen = await c.monitorValues(tickPv, MONITOR_UPDATES);
    console.log(`monitor ${tickPv}: ${seen.length} updates, values ${seen.map(show).join(", ")}`);
    c.close();
}

const timer = setTimeout(() => {
    console.error(`FAIL: no result within ${TIMEOUT_MS / 1000} s`);
    process.exit(1);
}, TIMEOUT_MS);

try {
    await run(parseArgs(process.argv.slice(2)));
    clearTimeout(timer);
    console.log("msgpack_client: all checks passed");
    process.exit(0);
} catch (e) {
    console.error(`FAIL: ${e instanceof Failure ? e.message : e.stack}`);
    process.exit(1);
}
