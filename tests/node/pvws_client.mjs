// A plain WebSocket client speaking the PVWS JSON dialect to `pvwire serve`'s /pvws/pv
// (docs/pvws.md), as existing PVWS web clients do: no subprotocol.
//   node pvws_client.mjs WRITE_URL READONLY_URL
// WRITE_URL: a server with --web-write and no throttle; READONLY_URL: one with the defaults
// (writes refused, 1000 ms throttle). Serves tests/node/pvs.json. Exit 0 when every check holds.
import WebSocket from "ws";

function check(ok, what) {
    if (!ok) {
        console.error(`FAIL: ${what}`);
        process.exit(1);
    }
    console.log(`ok: ${what}`);
}

// One socket; messages queue until a test takes them.
class Pvws {
    constructor(url) {
        this.url = url;
        this.queue = [];
        this.waiters = [];
        this.pings = 0;
    }
    async connect() {
        this.ws = new WebSocket(this.url);
        this.ws.on("message", (data) => {
            const m = JSON.parse(data.toString());
            const i = this.waiters.findIndex((w) => w.match(m));
            if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m);
            else this.queue.push(m);
        });
        this.ws.on("ping", () => this.pings++);
        await new Promise((resolve, reject) => {
            this.ws.once("open", resolve);
            this.ws.once("error", reject);
        });
        check(this.ws.protocol === "", `connected to ${this.url} with no subprotocol`);
    }
    send(m) { this.ws.send(typeof m === "string" ? m : JSON.stringify(m)); }
    // The next message for which match(m) holds (queued or coming), within ms.
    next(match, what, ms = 5000) {
        const i = this.queue.findIndex(match);
        if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]);
        return new Promise((resolve) => {
            const w = { match, resolve };
            this.waiters.push(w);
            setTimeout(() => {
                const j = this.waiters.indexOf(w);
                if (j < 0) return;
                this.waiters.splice(j, 1);
                check(false, `${what}: nothing within ${ms} ms`);
            }, ms);
        });
    }
    update(pv, what, pred = () => true) {
        return this.next((m) => m.type === "update" && m.pv === pv && pred(m), what);
    }
    drain(pv) { this.queue = this.queue.filter((m) => m.pv !== pv); }
    close() { this.ws.close(); }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function decode(b64, Type) {
    const bytes = Buffer.from(b64, "base64");
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = [];
    for (let i = 0; i < bytes.length; i += Type.BYTES_PER_ELEMENT)
        out.push(Type === Float64Array ? view.getFloat64(i, true) : view.getInt32(i, true));
    return out;
}

async function writable(url) {
    const c = new Pvws(url);
    await c.connect();

    // echo and ping
    c.send({ type: "echo", body: "hello, echo" });
    const echo = await c.next((m) => m.type === "echo", "echo");
    check(echo.body === "hello, echo", "echo returns the message");
    c.send({ type: "ping" });
    for (let i = 0; i < 50 && c.pings === 0; i++) await sleep(20);
    check(c.pings === 1, "ping gets a WebSocket ping frame");

    // subscribe: metadata once, then changes
    c.send({ type: "subscribe", pvs: ["pva://node:tick", "node:w"] });
    const first = await c.update("pva://node:tick", "first tick update");
    check(first.vtype === "VDouble" && typeof first.value === "number", "first update: vtype and value");
    check(first.severity === "NONE", "first update: severity NONE");
    check(typeof first.seconds === "number" && typeof first.nanos === "number", "first update: seconds and nanos");
    const second = await c.update("pva://node:tick", "second tick update");
    check(second.value !== first.value, "the next update carries the new value");
    check(second.vtype === undefined && second.severity === undefined, "the next update carries no metadata");
    const w = await c.update("node:w", "node:w update");
    check(w.units === "mm" && w.value === 1.25, "units and value of node:w");
    check(w.readonly === false, "node:w is writable with --web-write");

    // list
    c.send({ type: "list" });
    const list = await c.next((m) => m.type === "list", "list");
    check(JSON.stringify(list.pvs.sort()) === JSON.stringify(["node:w", "pva://node:tick"]), "list names both");

    // write, read back through the subscription
    c.send({ type: "write", pv: "node:w", value: 42.5 });
    await c.update("node:w", "the written value", (m) => m.value === 42.5);
    check(true, "write of 42.5 comes back as an update");
    c.send({ type: "write", pv: "node:w", value: "NaN" });
    await c.update("node:w", "NaN", (m) => m.value === "NaN");
    check(true, "NaN is sent as the string NaN");

    // read-only PV: readonly true, write refused with the server's message
    c.send({ type: "subscribe", pvs: ["node:ro"] });
    const ro = await c.update("node:ro", "node:ro update");
    check(ro.readonly === true, "a read-only PV says readonly");
    c.send({ type: "write", pv: "node:ro", value: 1 });
    const roErr = await c.next((m) => m.type === "error", "write to read-only");
    check(/read-only/.test(roErr.message), `write to a read-only PV refused: ${roErr.message}`);

    // enum, string, arrays
    c.send({ type: "subscribe", pvs: ["node:enum", "node:text", "node:doubles", "node:ints"] });
    const e = await c.update("node:enum", "enum");
    check(JSON.stringify(e.labels) === '["Low","Mid","High"]' && e.value === 1 && e.text === "Mid", "NTEnum: labels, index, text");
    c.send({ type: "write", pv: "node:enum", value: "High" });
    await c.update("node:enum", "enum written by name", (m) => m.value === 2 && m.text === "High");
    check(true, "an enum written by choice name");
    const t = await c.update("node:text", "text");
    check(t.text === "hello" && t.value === undefined, "NTScalar string as text");
    const d = await c.update("node:doubles", "doubles");
    check(JSON.stringify(decode(d.b64dbl, Float64Array)) === JSON.stringify([1.5, -2.25, 1e300, 0, 3.141592653589793]),
          "b64dbl decodes to the served doubles");
    const ints = await c.update("node:ints", "ints");
    check(JSON.stringify(decode(ints.b64int, Int32Array)) === JSON.stringify([7, -8, 2147483647, -2147483648]),
          "b64int decodes to the served ints");

    // errors: ca://, unknown PV, unknown message
    c.send({ type: "subscribe", pvs: ["ca://node:w"] });
    const ca = await c.next((m) => m.type === "error", "ca:// error");
    check(/Channel Access/.test(ca.message), `ca:// refused: ${ca.message}`);
    c.send({ type: "subscribe", pvs: ["node:nobody"] });
    const nobody = await c.update("node:nobody", "unknown PV");
    check(nobody.severity === "UNDEFINED" && nobody.value === undefined, "an unknown PV is UNDEFINED");
    c.send({ type: "dance" });
    const bad = await c.next((m) => m.type === "error", "unknown type");
    check(/dance/.test(bad.message), "an unknown message type is an error");

    // clear stops updates
    c.send({ type: "clear", pvs: ["pva://node:tick"] });
    await sleep(300);
    c.drain("pva://node:tick");
    await sleep(500);
    check(!c.queue.some((m) => m.pv === "pva://node:tick"), "no tick updates after clear");
    c.close();
}

async function readonly(url) {
    const c = new Pvws(url);
    await c.connect();
    c.send({ type: "subscribe", pvs: ["node:w", "node:tick"] });
    const w = await c.update("node:w", "node:w on the read-only server");
    check(w.readonly === true, "without --web-write every PV is readonly");
    c.send({ type: "write", pv: "node:w", value: 7 });
    const err = await c.next((m) => m.type === "error", "refused write");
    check(/writing from the web is disabled on this server/.test(err.message), `write refused: ${err.message}`);
    // the default throttle (1000 ms): a PV ticking every 100 ms sends about 2 updates in 2.5 s, not 25
    await c.update("node:tick", "first tick");
    const start = Date.now();
    let n = 0;
    while (Date.now() - start < 2500) {
        const m = await Promise.race([c.update("node:tick", "tick"), sleep(2600).then(() => null)]);
        if (m) n++;
    }
    check(n <= 4, `throttled: ${n} tick updates in 2.5 s (at most 4; unthrottled: ~25)`);
    check(n >= 1, "throttled updates still come");
    c.close();
}

const [writeUrl, readUrl] = process.argv.slice(2);
await writable(writeUrl);
await readonly(readUrl);
console.log("pvws client: all checks passed");
process.exit(0);
