// pvwire's web view (web/) in headless Chromium, against `pvwire serve`:
//   1. a value that changes on the server changes on the page;
//   2. the views of the Normative Types (enum, table, array plot, image, compressed image note);
//   3. a put from the page, confirmed in its dialog, is read back by `pvwire get`; a refused put
//      shows the server's message;
//   4. a PV written at 1 kHz is charted for RUN_SECONDS: frames drawn, the lag from the server's
//      timeStamp to the drawn frame (p50 <= 50 ms), the newest point recent, and the JS heap
//      sampled every second with no growth beyond HEAP_GROWTH_LIMIT.
//
//   node web_test.mjs --pvwire BIN --web-root DIR [--screenshot FILE]
//
// Environment: PVWIRE_CHROMIUM (default /usr/bin/chromium); PVWIRE_WEB_RUN_SECONDS (default 10;
// 60 for the long memory run); PVWIRE_WEB_TEST_PROXY=1 serves DIR with dev_proxy.mjs in front
// of a pvwire serve that has no web routes (development before those existed).
// Exit status 0 when every check held, 1 with a message on the first failure.

import { spawn, execFile } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { chromium } from "playwright-core";
import WebSocket from "ws";
import { Connection } from "../../web/src/pvwire-client.js";
import { startDevProxy } from "./dev_proxy.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const RUN_SECONDS = Number(process.env.PVWIRE_WEB_RUN_SECONDS ?? 10);
const WARMUP_SECONDS = 3;
const RATE_HZ = 1000;
const LAG_P50_LIMIT_MS = 50;
const NEWEST_AGE_LIMIT_MS = 500;
const HEAP_GROWTH_LIMIT = 4 << 20; // bytes, after a forced GC at both ends of the run
const PV_NAMES = ["web:counter", "web:setpoint", "web:fast", "web:temperature", "web:pressure", "web:mode", "web:waveform", "web:table", "web:image", "web:jpeg", "web:message"];

class Failure extends Error {}
function check(ok, what) {
    if (!ok) throw new Failure(what);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the server ----

async function startServer(pvwire, webRoot, proxied) {
    const args = ["serve", "--isolated", "--pvs", path.join(here, "pvs.json")];
    if (!proxied) args.push("--web-root", webRoot, "--web-write");
    const child = spawn(pvwire, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    for (let i = 0; i < 100 && !/running/.test(out); i++) {
        if (child.exitCode !== null) break;
        await sleep(100);
    }
    const ws = /msgpack\+ws:\/\/([\d.]+):(\d+)\/msgpack/.exec(out);
    const tcp = /TCP ([\d.]+:\d+)/.exec(out);
    check(ws && tcp, `pvwire serve did not start:\n${out}${err}`);
    return { child, httpPort: Number(ws[2]), tcp: tcp[1], stderr: () => err };
}

async function pvwireGet(pvwire, server, name) {
    const { stdout } = await promisify(execFile)(pvwire, ["get", "--json", "--server", server, name], { timeout: 10_000 });
    return JSON.parse(stdout.trim().split("\n")[0]);
}

// ---- the page ----

async function launchBrowser() {
    const executablePath = process.env.PVWIRE_CHROMIUM ?? "/usr/bin/chromium";
    return chromium.launch({
        executablePath,
        headless: true,
        // As root Chromium needs --no-sandbox; the closed network here refuses the background
        // connections Chromium makes on its own, so those are off.
        args: [
            "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--no-first-run", "--disable-extensions", "--metrics-recording-only",
            "--disable-features=MediaRouter,OptimizationHints,Translate",
        ],
    });
}

const row = (page, name) => page.locator(`tr[data-pv="${name}"]`);
const rowValue = (page, name) => row(page, name).locator('[data-testid="pv-value"]').innerText();

async function testValueChanges(page) {
    await page.waitForFunction(() => /^\d+$/.test(document.querySelector('tr[data-pv="web:counter"] [data-testid="pv-value"]')?.innerText ?? ""));
    const first = Number(await rowValue(page, "web:counter"));
    await page.waitForFunction(
        (v) => Number(document.querySelector('tr[data-pv="web:counter"] [data-testid="pv-value"]').innerText) > v,
        first, { timeout: 5000 },
    );
    const later = Number(await rowValue(page, "web:counter"));
    console.log(`ok: web:counter changes on the page (${first} -> ${later})`);
    const alarm = await row(page, "web:temperature").locator(".severity").innerText();
    check(alarm === "MAJOR", `web:temperature's alarm column reads "${alarm}", not MAJOR`);
}

async function select(page, name) {
    await row(page, name).click();
    await page.locator(".detail-head h2", { hasText: name }).waitFor();
}

async function testViews(page) {
    await select(page, "web:mode");
    check((await page.locator('[data-testid="detail-value"]').innerText()) === "Standby", "web:mode does not read Standby");
    await select(page, "web:table");
    const table = await page.locator('[data-testid="nttable"]').innerText();
    check(/Tag/i.test(table) && /beta/.test(table) && /-3\.75/.test(table), `the NTTable view shows ${table}`);
    await select(page, "web:waveform");
    await page.locator('[data-testid="array-plot"] canvas').waitFor();
    await select(page, "web:image");
    await page.locator('[data-testid="image-canvas"]').waitFor();
    const [w, h, centre] = await page.locator('[data-testid="image-canvas"]').evaluate((c) => [
        c.width, c.height, Array.from(c.getContext("2d").getImageData(24, 16, 1, 1).data),
    ]);
    check(w === 48 && h === 32 && centre[0] > 200, `the image is ${w}x${h}, centre pixel ${centre}`);
    await select(page, "web:jpeg");
    const note = await page.locator('[data-testid="image-note"]').innerText();
    check(/compressed with "jpeg"/.test(note), `the compressed image shows "${note}"`);
    console.log("ok: NTEnum, NTTable, array plot, NTNDArray image and the compressed-codec note");
}

async function putFromPage(page, name, text) {
    await select(page, name);
    await page.locator('[data-testid="put-input"]').fill(text);
    await page.locator('[data-testid="put-button"]').click();
    await page.locator('[data-testid="confirm-dialog"]').waitFor();
    await page.locator('[data-testid="confirm-put"]').click();
    const answer = page.locator('[data-testid="put-result"], [data-testid="put-error"]');
    await answer.first().waitFor();
    return { ok: (await page.locator('[data-testid="put-result"]').count()) > 0, text: await answer.first().innerText() };
}

async function testPut(page, pvwire, server) {
    const done = await putFromPage(page, "web:setpoint", "4.25");
    check(done.ok, `the put was refused: ${done.text}`);
    const got = await pvwireGet(pvwire, server.tcp, "web:setpoint");
    check(got.value?.value === 4.25, `pvwire get web:setpoint reads ${JSON.stringify(got.value?.value)} after the page put 4.25`);
    await page.waitForFunction(() => document.querySelector('[data-testid="detail-value"]')?.innerText === "4.250");
    console.log("ok: a put of 4.25 from the page (confirmed) is read back by pvwire get");

    const refused = await putFromPage(page, "web:setpoint", "99");
    check(!refused.ok && /limit/i.test(refused.text), `a put outside the limits shows "${refused.text}"`);
    console.log(`ok: a refused put shows the server's message: "${refused.text}"`);
}

// ---- 1 kHz ----

// Writes web:fast RATE_HZ times a second through the msgpack protocol (the server stamps
// timeStamp on every put). setTimeout wakes about once a millisecond; each wake-up writes the
// values that are due, with up to LANES puts in flight (one put operation each, on one
// connection, so the server still takes them in order), so the rate holds on a busy host.
const LANES = 16;
function startPublisher(httpPort) {
    const c = new Connection(`ws://127.0.0.1:${httpPort}/msgpack`, { WebSocket });
    const state = { sent: 0, running: true, error: null };
    let inFlight = 0;
    const value = (t) => (5 * Math.sin(2 * Math.PI * 0.5 * t) + 0.3 * Math.sin(2 * Math.PI * 13 * t)).toFixed(4);
    state.done = (async () => {
        await c.ready;
        const start = performance.now();
        while (state.running && !state.error) {
            const due = Math.floor(((performance.now() - start) * RATE_HZ) / 1000);
            while (state.sent < due && inFlight < LANES) {
                inFlight++;
                c.put("web:fast", "value", value(state.sent / RATE_HZ), state.sent % LANES).then(
                    () => inFlight--,
                    (e) => (state.error = e),
                );
                state.sent++;
            }
            await sleep(1);
        }
        c.close();
    })().catch((e) => (state.error = e));
    return state;
}

async function heapUsed(cdp, collect) {
    if (collect) await cdp.send("HeapProfiler.collectGarbage");
    const { metrics } = await cdp.send("Performance.getMetrics");
    return metrics.find((m) => m.name === "JSHeapUsedSize").value;
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const mib = (b) => (b / (1 << 20)).toFixed(2);

async function test1kHz(page, server, screenshot) {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Performance.enable");
    await select(page, "web:fast");
    await page.locator('[data-testid="live-chart"] canvas').waitFor();
    const publisher = startPublisher(server.httpPort);
    await sleep(WARMUP_SECONDS * 1000);
    check(!publisher.error, `the 1 kHz publisher failed: ${publisher.error?.message}`);

    const heapStart = await heapUsed(cdp, true);
    const heap = [];
    await page.evaluate(() => window.__pvwireChart.reset());
    const sentBefore = publisher.sent;
    const pointsBefore = await page.evaluate(() => window.__pvwireChart.points);
    const t0 = Date.now();
    const heapCollected = [heapStart]; // in a long run, also after a forced GC every 10 s
    for (let s = 1; s <= RUN_SECONDS; s++) {
        await sleep(t0 + s * 1000 - Date.now());
        heap.push(await heapUsed(cdp, false));
        if (RUN_SECONDS > 10 && s % 10 === 0 && s < RUN_SECONDS) heapCollected.push(await heapUsed(cdp, true));
    }
    const elapsed = (Date.now() - t0) / 1000;
    const stats = await page.evaluate(() => {
        const s = window.__pvwireChart;
        return { frames: s.frames, lags: s.lagList(), newestAge: Date.now() - s.newest * 1000, points: s.points };
    });
    const sent = publisher.sent - sentBefore;
    if (screenshot) await page.screenshot({ path: screenshot });
    publisher.running = false;
    await publisher.done;
    const heapEnd = await heapUsed(cdp, true);

    const lags = stats.lags.sort((a, b) => a - b);
    const p50 = quantile(lags, 0.5);
    const p99 = quantile(lags, 0.99);
    console.log(
        `1 kHz: ${sent} puts in ${elapsed.toFixed(1)} s (${(sent / elapsed).toFixed(0)}/s), ` +
            `${stats.frames} frames drawn (${(stats.frames / elapsed).toFixed(1)} frames/s), ` +
            `lag server timeStamp -> drawn frame p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${lags.at(-1).toFixed(1)} ms; ` +
            `chart holds ${stats.points} points (+${stats.points - pointsBefore}), newest ${stats.newestAge.toFixed(0)} ms old`,
    );
    heapCollected.push(heapEnd);
    console.log(`1 kHz: JS heap after GC ${heapCollected.map(mib).join(" -> ")} MiB; every second: ${heap.map(mib).join(" ")} MiB`);
    check(sent / elapsed > 0.8 * RATE_HZ, `the publisher wrote ${(sent / elapsed).toFixed(0)}/s, not ${RATE_HZ}/s`);
    check(stats.frames >= 10 * elapsed, `only ${stats.frames} frames drawn in ${elapsed.toFixed(1)} s`);
    check(p50 <= LAG_P50_LIMIT_MS, `lag p50 ${p50.toFixed(1)} ms is over ${LAG_P50_LIMIT_MS} ms`);
    check(stats.newestAge <= NEWEST_AGE_LIMIT_MS, `the chart's newest point is ${stats.newestAge.toFixed(0)} ms old`);
    check(heapEnd - heapStart <= HEAP_GROWTH_LIMIT, `the JS heap grew by ${mib(heapEnd - heapStart)} MiB in ${elapsed.toFixed(0)} s`);
    console.log("ok: the 1 kHz PV is charted without falling behind");
}

// ---- main ----

async function run({ pvwire, webRoot, screenshot }) {
    const proxied = process.env.PVWIRE_WEB_TEST_PROXY === "1";
    const server = await startServer(pvwire, webRoot, proxied);
    let proxy = null;
    let browser = null;
    try {
        proxy = proxied ? await startDevProxy({ root: webRoot, backendPort: server.httpPort, names: PV_NAMES }) : null;
        const base = `http://127.0.0.1:${proxy ? proxy.port : server.httpPort}`;
        console.log(`page: ${base}/${proxy ? " (dev proxy)" : ""}`);
        browser = await launchBrowser();
        const page = await browser.newPage({ viewport: { width: 1400, height: 720 } });
        page.on("pageerror", (e) => console.log(`page error: ${e.message}`));
        await page.goto(`${base}/?pvs=${PV_NAMES.join(",")}`);
        await testValueChanges(page);
        await testViews(page);
        await testPut(page, pvwire, server);
        await test1kHz(page, server, screenshot);
    } finally {
        await browser?.close();
        proxy?.close();
        server.child.kill();
        await once(server.child, "exit").catch(() => {});
    }
}

const { values } = parseArgs({ options: { pvwire: { type: "string" }, "web-root": { type: "string" }, screenshot: { type: "string" } } });
if (!values.pvwire || !values["web-root"]) {
    console.error("usage: node web_test.mjs --pvwire BIN --web-root DIR [--screenshot FILE]");
    process.exit(2);
}
const timer = setTimeout(() => {
    console.error("FAIL: no result within 180 s");
    process.exit(1);
}, (120 + RUN_SECONDS) * 1000);
try {
    await run({ pvwire: values.pvwire, webRoot: path.resolve(values["web-root"]), screenshot: values.screenshot });
    clearTimeout(timer);
    console.log("web_test: all checks passed");
    process.exit(0);
} catch (e) {
    console.error(`FAIL: ${e instanceof Failure ? e.message : e.stack}`);
    process.exit(1);
}
