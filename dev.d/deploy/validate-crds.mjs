// Validate the custom resources in rendered manifests against their schemas
// (kubernetes-models): SealedSecret, ArgoCD Application/ApplicationSet/AppProject,
// Prometheus Operator ServiceMonitor and PrometheusRule, Gateway API HTTPRoute.
// Core kinds are left to kubernetes-validate. An unknown custom kind fails.
//   OPS_NODE_MODULES=.dev/ops/node/node_modules node validate-crds.mjs FILE...
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(process.env.OPS_NODE_MODULES + "/");
const yaml = require("js-yaml");
// The model packages are ESM with restrictive "exports": import their files directly.
const load = async (spec) => import(pathToFileURL(join(process.env.OPS_NODE_MODULES, spec + ".js")).href);

const models = {
  "bitnami.com/v1alpha1/SealedSecret": ["@kubernetes-models/sealed-secrets/bitnami.com/v1alpha1/SealedSecret", "SealedSecret"],
  "argoproj.io/v1alpha1/Application": ["@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application", "Application"],
  "argoproj.io/v1alpha1/ApplicationSet": ["@kubernetes-models/argo-cd/argoproj.io/v1alpha1/ApplicationSet", "ApplicationSet"],
  "argoproj.io/v1alpha1/AppProject": ["@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject", "AppProject"],
  "gateway.networking.k8s.io/v1/HTTPRoute": ["@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute", "HTTPRoute"],
  "monitoring.coreos.com/v1/ServiceMonitor": ["@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor", "ServiceMonitor"],
  "monitoring.coreos.com/v1/PrometheusRule": ["@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule", "PrometheusRule"],
};

let checked = 0, failed = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of yaml.loadAll(readFileSync(file, "utf8"))) {
    if (!doc || typeof doc !== "object") continue;
    const { apiVersion = "", kind = "" } = doc;
    const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
    const core = !group.includes(".") || group.endsWith(".k8s.io");
    if (core && !models[`${apiVersion}/${kind}`]) continue; // core: kubernetes-validate
    const id = `${file}: ${kind} ${doc.metadata?.name ?? "?"}`;
    const entry = models[`${apiVersion}/${kind}`];
    if (!entry) { console.error(`FAIL ${id}: no schema for ${apiVersion} ${kind}`); failed++; continue; }
    const Model = (await load(entry[0]))[entry[1]];
    try {
      new Model(doc).validate();
      checked++;
    } catch (e) {
      failed++;
      console.error(`FAIL ${id}: ${e.message}`);
    }
  }
}
console.log(`crd-validate: ${checked} valid, ${failed} invalid`);
process.exit(failed ? 1 : 0);
