// Types and partial values of pvwire's msgpack schema (docs/msgpack.md) as plain JavaScript,
// with no imports: shared by the page's client (pvwire-client.js) and tests/node's client.

export const STRUCT = 0x80;

export class PartialValueError extends Error {}
function check(ok, what) {
    if (!ok) throw new PartialValueError(what);
}

export const codeOf = (type) => (typeof type === "number" ? type : type.c);

// Depth-first field table of a type: offset -> {path, type, count}, count the offsets the
// field spans (a structure: itself and its subtree).
export function fieldTable(type, path = "", table = []) {
    const entry = { path, type, count: 1 };
    table.push(entry);
    if (codeOf(type) === STRUCT)
        for (const [name, member] of type.m) {
            const before = table.length;
            fieldTable(member, path ? `${path}.${name}` : name, table);
            entry.count += table.length - before;
        }
    return table;
}

// Merges a partial value [[offsets...], values...] into `state.root`, the value as a JS object
// (offset 0 replaces it whole, a deeper offset one field of it). `toJs(type, value)` turns a
// field's msgpack value into the JS value kept. Returns `state`.
export function applyPartial(table, partial, state, toJs) {
    check(Array.isArray(partial) && Array.isArray(partial[0]), "a partial value is [[offsets...], values...]");
    const [offsets, ...values] = partial;
    let next = 0;
    let coveredUpTo = 0;
    for (const offset of offsets) {
        check(offset < table.length, `field offset ${offset} past the ${table.length} fields of the type`);
        if (offset < coveredUpTo) continue; // inside a structure already selected
        const { path, type, count } = table[offset];
        const v = toJs(type, values[next++]);
        if (path === "") {
            state.root = v;
        } else {
            const names = path.split(".");
            let parent = (state.root ??= {});
            for (const name of names.slice(0, -1)) parent = parent[name] ??= {};
            parent[names.at(-1)] = v;
        }
        coveredUpTo = offset + count;
    }
    check(next === values.length, `${values.length} values for ${next} selected fields`);
    return state;
}
