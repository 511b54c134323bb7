// The live chart of one numeric PV: the last CHART_WINDOW_S seconds of its samples (server
// timestamps), redrawn once per animation frame when samples arrived, never per update.
// window.__pvwireChart exposes frames drawn and the lag of each frame (now minus the newest
// sample's timestamp) for the browser tests.

import { useEffect, useRef } from "react";
import uPlot from "uplot";
import { CHART_WINDOW_S } from "./session.js";

const LAG_SAMPLES = 1 << 14;

// Frame statistics, kept in a fixed-size buffer.
function chartStats() {
    const stats = {
        frames: 0,
        lags: new Float64Array(LAG_SAMPLES),
        newest: 0,
        points: 0,
        reset() {
            stats.frames = 0;
        },
        lagList() {
            return Array.from(stats.lags.subarray(0, Math.min(stats.frames, LAG_SAMPLES)));
        },
    };
    return stats;
}

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

function chartOptions(width, units) {
    const grid = { stroke: css("--grid"), width: 1 };
    const axis = { stroke: css("--muted"), grid, ticks: grid };
    return {
        width,
        height: 280,
        legend: { show: false },
        cursor: { show: false },
        scales: {
            x: { time: true, range: (u, min, max) => [max - CHART_WINDOW_S, max] },
            y: { range: (u, min, max) => (min === max ? [min - 1, max + 1] : [min, max]) },
        },
        axes: [axis, { ...axis, label: units || "", size: 60 }],
        series: [{}, { stroke: css("--accent"), width: 1.5, points: { show: false } }],
    };
}

export function LiveChart({ ring, units }) {
    const box = useRef(null);

    useEffect(() => {
        const el = box.current;
        const plot = new uPlot(chartOptions(el.clientWidth, units), [[], []], el);
        const stats = chartStats();
        window.__pvwireChart = stats;
        let drawn = -1;
        let frame = requestAnimationFrame(function draw() {
            if (ring.version !== drawn && ring.length > 0) {
                drawn = ring.version;
                plot.setData(ring.window());
                const newest = ring.newest();
                stats.lags[stats.frames % LAG_SAMPLES] = Date.now() - newest.x * 1000;
                stats.frames++;
                stats.newest = newest.x;
                stats.points = ring.length;
            }
            frame = requestAnimationFrame(draw);
        });
        const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: 280 }));
        resize.observe(el);
        return () => {
            cancelAnimationFrame(frame);
            resize.disconnect();
            plot.destroy();
        };
    }, [ring, units]);

    return <div className="chart" ref={box} data-testid="live-chart" />;
}

/** A static line plot of an array value, redrawn when the value changes. */
export function ArrayPlot({ values, units }) {
    const box = useRef(null);
    const plot = useRef(null);

    useEffect(() => {
        const el = box.current;
        const options = chartOptions(el.clientWidth, units);
        options.scales.x = { time: false };
        plot.current = new uPlot(options, [[], []], el);
        const resize = new ResizeObserver(() => plot.current.setSize({ width: el.clientWidth, height: 280 }));
        resize.observe(el);
        return () => {
            resize.disconnect();
            plot.current.destroy();
        };
    }, [units]);

    useEffect(() => {
        const ys = Float64Array.from(values, Number);
        plot.current.setData([ys.map((_, i) => i), ys]);
    }, [values]);

    return <div className="chart" ref={box} data-testid="array-plot" />;
}
