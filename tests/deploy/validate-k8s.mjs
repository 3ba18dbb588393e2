// Validates Kubernetes manifests against the API schema (the npm package kubernetes-models, which
// carries the OpenAPI schemas of the API and needs no cluster), then the rules issue 12 sets for
// netfaultd's DaemonSet. Emits TAP. Run by tests/deploy/test-manifests.sh:
//   node validate-k8s.mjs NODE_MODULES_DIR MANIFEST...
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [modules, ...files] = process.argv.slice(2);
const require = createRequire(path.resolve(modules, "x.js"));
const YAML = require("yaml");
const models = {
  "v1/Namespace": require("kubernetes-models/v1").Namespace,
  "scheduling.k8s.io/v1/PriorityClass": require("kubernetes-models/scheduling.k8s.io/v1").PriorityClass,
  "apps/v1/DaemonSet": require("kubernetes-models/apps/v1").DaemonSet,
};
let n = 0, failed = 0;
const ok = (cond, what) => { n++; if (!cond) failed++; console.log(`${cond ? "ok" : "not ok"} ${n} - ${what}`); };

const docs = [];
for (const f of files)
  for (const d of YAML.parseAllDocuments(readFileSync(f, "utf8"))) {
    ok(d.errors.length === 0, `${path.basename(f)}: a YAML document parses${d.errors.length ? ": " + d.errors[0].message : ""}`);
    const o = d.toJS();
    if (o) docs.push({ file: path.basename(f), o });
  }
for (const { file, o } of docs) {
  const key = `${o.apiVersion}/${o.kind}`, Model = models[key];
  if (!Model) { ok(false, `${file}: ${key} is a kind this test knows`); continue; }
  let err = null;
  try { new Model(o).validate(); } catch (e) { err = e; }
  ok(!err, `${file}: ${key} ${o.metadata?.name} is valid against the Kubernetes schema${err ? ": " + err.message : ""}`);
}

// The DaemonSet's rules (issue 12, "Deployment").
const ds = docs.find((d) => d.o.kind === "DaemonSet")?.o;
ok(!!ds, "there is a DaemonSet");
if (ds) {
  const spec = ds.spec.template.spec, c = spec.containers[0], sc = c.securityContext ?? {};
  const caps = sc.capabilities ?? {};
  ok(spec.hostPID === true, "hostPID (pods' processes are found in /proc)");
  ok(spec.hostNetwork === true, "the node's network namespace");
  ok(JSON.stringify(caps.drop) === '["ALL"]', "drops ALL capabilities first");
  ok(JSON.stringify([...(caps.add ?? [])].sort()) === '["NET_ADMIN","SYS_ADMIN","SYS_PTRACE"]', "adds NET_ADMIN, SYS_ADMIN and SYS_PTRACE and no others");
  ok(sc.privileged !== true && sc.allowPrivilegeEscalation === false, "not privileged, no privilege escalation");
  ok(sc.readOnlyRootFilesystem === true, "read-only root filesystem");
  ok(c.args.includes("--netns-mode=on"), "--netns-mode=on (the daemon keeps the two extra capabilities)");
  const stateArg = c.args.find((a) => a.startsWith("--state-dir="))?.slice(12);
  const stateMount = c.volumeMounts.find((m) => m.mountPath === stateArg);
  const stateVol = spec.volumes.find((v) => v.name === stateMount?.name);
  ok(!!stateVol?.hostPath && stateVol.hostPath.path.startsWith("/run/"), "the state directory is a hostPath under /run (a restarted pod sweeps what its predecessor left)");
  const nsMount = c.volumeMounts.find((m) => m.mountPath === "/var/run/netns");
  ok(nsMount?.mountPropagation === "HostToContainer", "/var/run/netns mounted with HostToContainer propagation");
  ok(c.readinessProbe?.httpGet?.path === "/healthz" && c.livenessProbe?.httpGet?.path === "/healthz", "readiness and liveness on /healthz");
  ok((spec.tolerations ?? []).some((t) => t.operator === "Exists" && !t.key && !t.effect), "tolerates every taint (runs on every node)");
  ok(!!c.resources?.requests?.cpu && !!c.resources?.requests?.memory && !!c.resources?.limits?.cpu && !!c.resources?.limits?.memory, "resource requests and limits");
  ok(!!spec.priorityClassName && docs.some((d) => d.o.kind === "PriorityClass" && d.o.metadata.name === spec.priorityClassName), "a priority class, defined alongside");
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
