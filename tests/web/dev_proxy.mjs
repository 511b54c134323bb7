// A development stand-in for `pvwire serve --web-root DIR`: serves DIR's files and passes
// /msgpack (WebSocket) and /api/* through to a pvwire serve's HTTP port. Where that server does
// not answer /api/config or /api/pvs yet (404), it answers them itself: {"write": true} and the
// names given. Used by web_test.mjs only when PVWIRE_WEB_TEST_PROXY=1.
//
//   startDevProxy({ root, backendPort, names }) -> Promise<{ port, close() }>

import { createReadStream, statSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml" };

function serveFile(root, req, res) {
    const rel = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const file = path.join(root, path.normalize(rel === "/" ? "/index.html" : rel));
    if (!file.startsWith(root)) return res.writeHead(403).end();
    try {
        if (!statSync(file).isFile()) throw new Error();
    } catch {
        return res.writeHead(404).end("not found");
    }
    res.writeHead(200, { "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
}

function forwardApi(backendPort, names, req, res) {
    const up = http.request({ host: "127.0.0.1", port: backendPort, path: req.url, method: req.method, headers: req.headers }, (r) => {
        if (r.statusCode === 404 && req.url.startsWith("/api/config")) return res.end(JSON.stringify({ write: true, version: "dev-proxy" }));
        if (r.statusCode === 404 && req.url.startsWith("/api/pvs")) return res.end(JSON.stringify(names));
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
    });
    up.on("error", () => res.writeHead(502).end());
    req.pipe(up);
}

// WebSocket upgrades go through as bytes: the request head re-sent, then both ways piped.
function forwardUpgrade(backendPort, req, socket, head) {
    const up = net.connect(backendPort, "127.0.0.1", () => {
        const lines = [`${req.method} ${req.url} HTTP/1.1`];
        for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
        up.write(lines.join("\r\n") + "\r\n\r\n");
        up.write(head);
        up.pipe(socket);
        socket.pipe(up);
    });
    up.setNoDelay(true);
    socket.setNoDelay(true);
    up.on("error", () => socket.destroy());
    socket.on("error", () => up.destroy());
}

export function startDevProxy({ root, backendPort, names }) {
    const server = http.createServer((req, res) =>
        req.url.startsWith("/api/") ? forwardApi(backendPort, names, req, res) : serveFile(path.resolve(root), req, res),
    );
    server.on("upgrade", (req, socket, head) => forwardUpgrade(backendPort, req, socket, head));
    return new Promise((resolve) =>
        server.listen(0, "127.0.0.1", () => resolve({ port: server.address().port, close: () => server.close() })),
    );
}
