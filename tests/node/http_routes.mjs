// The plain HTTP routes of `pvwire serve --http` (docs/pvws.md): /metrics, /api/config,
// /api/pvs, the web root's files with their types and cache headers, HEAD, 404, and no path
// traversal.
//   node http_routes.mjs http://HOST:PORT(write-enabled) http://HOST:PORT(read-only)
import http from "node:http";

function check(ok, what) {
    if (!ok) {
        console.error(`FAIL: ${what}`);
        process.exit(1);
    }
    console.log(`ok: ${what}`);
}

// GET (or `method`) `path` as it is written: no URL normalisation of "..".
function request(base, path, method = "GET", headers = {}) {
    const u = new URL(base.replace(/^ws:/, "http:"));
    return new Promise((resolve, reject) => {
        const req = http.request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
        });
        req.on("error", reject);
        req.end();
    });
}

const [writeBase, readBase] = process.argv.slice(2);

const metrics = await request(writeBase, "/metrics");
check(metrics.status === 200 && metrics.headers["content-type"].startsWith("text/plain; version=0.0.4"),
      "GET /metrics: Prometheus text");
check(/^pvwire_connections \d+$/m.test(metrics.body), "metrics name the open connections");

const cfgW = JSON.parse((await request(writeBase, "/api/config")).body);
const cfgR = JSON.parse((await request(readBase, "/api/config")).body);
check(cfgW.write === true && cfgR.write === false, "/api/config says whether writes are enabled");
check(typeof cfgW.version === "string" && /anonymous@127\.0\.0\.1/.test(cfgW.user), `/api/config user: ${cfgW.user}`);

const alice = JSON.parse((await request(writeBase, "/api/config", "GET", { "X-Remote-User": "alice" })).body);
check(alice.user === "alice@127.0.0.1", `the trusted user header names the user: ${alice.user}`);
const notTrusted = JSON.parse((await request(readBase, "/api/config", "GET", { "X-Remote-User": "alice" })).body);
check(/^anonymous@/.test(notTrusted.user), "without --http-user-header the header is ignored");

const pvs = await request(writeBase, "/api/pvs");
check(pvs.headers["content-type"] === "application/json" && JSON.parse(pvs.body).includes("node:tick"),
      "/api/pvs lists the served names");

const index = await request(writeBase, "/");
check(index.status === 200 && index.headers["content-type"].startsWith("text/html") && /pvwire test page/.test(index.body),
      "GET / serves index.html");
check(index.headers["cache-control"] === "no-cache", "the page is not cached");
const asset = await request(writeBase, "/assets/app.js");
check(asset.status === 200 && asset.headers["content-type"].startsWith("text/javascript"), "assets are served as JavaScript");
check(/immutable/.test(asset.headers["cache-control"]), "assets are immutable");
const head = await request(writeBase, "/", "HEAD");
check(head.status === 200 && head.body === "" && Number(head.headers["content-length"]) === index.body.length,
      "HEAD: the length without the body");
check((await request(writeBase, "/nothing.js")).status === 404, "a missing file is 404");
check((await request(writeBase, "/../secret.txt")).status === 404, "no way out of the web root with ..");
check((await request(writeBase, "/%2e%2e/secret.txt")).status === 404, "nor with %2e%2e");
check((await request(writeBase, "/pvws/pv")).status === 426, "/pvws/pv without an upgrade is 426");
check((await request(writeBase, "/metrics", "POST")).status === 405, "POST is 405");
console.log("http routes: all checks passed");
