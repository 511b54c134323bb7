// An NTNDArray drawn on a canvas: mono (2 dimensions) or RGB1 (3 × width × height), any
// numeric element type scaled to 0..255. A compressed codec or another colour layout gets a
// note instead of pixels.

import { useEffect, useRef } from "react";

const COLOR_MODES = ["Mono", "Bayer", "RGB1", "RGB2", "RGB3", "YUV444", "YUV422", "YUV411"];

// What can be drawn: {width, height, channels, data} or {note}.
function imageLayout(nd) {
    const codec = nd.codec?.name;
    if (codec) return { note: `compressed with "${codec}": this page shows uncompressed images only` };
    const data = nd.value ? Object.values(nd.value)[0] : null;
    if (!ArrayBuffer.isView(data)) return { note: "no image data" };
    const dims = (nd.dimension ?? []).map((d) => Number(d.size));
    const modeAttr = (nd.attribute ?? []).find((a) => a?.name === "ColorMode");
    const mode = modeAttr ? Number(modeAttr.value) : dims.length === 3 ? 2 : 0;
    if (dims.length === 2 && mode === 0) return { width: dims[0], height: dims[1], channels: 1, data };
    if (dims.length === 3 && mode === 2 && dims[0] === 3) return { width: dims[1], height: dims[2], channels: 3, data };
    return { note: `${dims.length} dimensions, colour mode ${COLOR_MODES[mode] ?? mode}: not drawn (Mono and RGB1 are)` };
}

function range(data) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < data.length; i++) {
        const v = Number(data[i]);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    return [lo, hi > lo ? hi : lo + 1];
}

function paint(canvas, { width, height, channels, data }) {
    if (data.length < width * height * channels) return `${data.length} elements for ${width} × ${height} × ${channels}`;
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(width, height);
    const bytes = data instanceof Uint8Array || data instanceof Uint8ClampedArray;
    const [lo, hi] = bytes ? [0, 255] : range(data);
    const scale = 255 / (hi - lo);
    for (let p = 0; p < width * height; p++) {
        for (let c = 0; c < 3; c++) {
            const v = Number(data[p * channels + (channels === 3 ? c : 0)]);
            img.data[4 * p + c] = (v - lo) * scale;
        }
        img.data[4 * p + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    return null;
}

export function ImageView({ value }) {
    const canvas = useRef(null);
    const layout = imageLayout(value);
    const problem = layout.note ?? null;
    useEffect(() => {
        if (!layout.note) paint(canvas.current, layout);
    });
    if (problem) return <p className="note" data-testid="image-note">{problem}</p>;
    return (
        <div className="image">
            <canvas ref={canvas} data-testid="image-canvas" />
            <span className="muted">
                {layout.width} × {layout.height} {layout.channels === 3 ? "RGB" : "mono"}
            </span>
        </div>
    );
}
