// A fixed-size ring of (time, value) samples whose contents are always one contiguous
// subarray: every sample is written twice, at i and at i + capacity, so the window from the
// oldest to the newest never wraps. The chart hands those subarrays to uPlot with no copy.

export class SampleRing {
    constructor(capacity) {
        this.capacity = capacity;
        this.xs = new Float64Array(2 * capacity);
        this.ys = new Float64Array(2 * capacity);
        this.count = 0; // samples ever pushed
        this.version = 0;
    }

    push(x, y) {
        const at = this.count % this.capacity;
        this.xs[at] = this.xs[at + this.capacity] = x;
        this.ys[at] = this.ys[at + this.capacity] = y;
        this.count++;
        this.version++;
    }

    get length() {
        return Math.min(this.count, this.capacity);
    }

    /** [xs, ys], oldest first, as views of the ring's memory. */
    window() {
        const start = (this.count - this.length) % this.capacity;
        const end = start + this.length;
        return [this.xs.subarray(start, end), this.ys.subarray(start, end)];
    }

    newest() {
        if (this.count === 0) return null;
        const at = (this.count - 1) % this.capacity;
        return { x: this.xs[at], y: this.ys[at] };
    }
}
