// Vite builds web/ into dist/ (CMake passes --outDir into the build tree). JSX goes through
// Vite's own esbuild (no @vitejs/plugin-react: it adds Babel for Fast Refresh only).
// `npm run dev` proxies /msgpack and /api to a `pvwire serve --http` at PVWIRE_HTTP
// (default localhost:8075), so the page can be developed against a live server.
import { defineConfig } from "vite";

const backend = process.env.PVWIRE_HTTP ?? "localhost:8075";

export default defineConfig({
    base: "./",
    esbuild: { jsx: "automatic" },
    build: { target: "es2022", chunkSizeWarningLimit: 400 },
    server: {
        proxy: {
            "/msgpack": { target: `ws://${backend}`, ws: true },
            "/api": { target: `http://${backend}` },
        },
    },
});
