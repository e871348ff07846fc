// Runs Python code in real Pyodide under Node, with our wheel installed by micropip from dist/.
// usage: node run.mjs DIST_DIR WHEEL_PATH PYTHON_CODE  -> prints what the code prints; exit 1 on error.
import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { createRequire } from "node:module";

const [distDir, wheelPath, code] = process.argv.slice(2);
const require = createRequire(resolve(distDir, "..", "package.json"));
const { loadPyodide } = require("pyodide");

const pyodide = await loadPyodide({ indexURL: resolve(distDir, "pyodide") + "/" });
await pyodide.loadPackage("micropip");
const target = `/tmp/${basename(wheelPath)}`;
pyodide.FS.writeFile(target, readFileSync(wheelPath));
const micropip = pyodide.pyimport("micropip");
await micropip.install(`emfs:${target}`);
try {
  await pyodide.runPythonAsync(code);
} catch (error) {
  console.error(String(error));
  process.exit(1);
}
