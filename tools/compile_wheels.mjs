// Compile wheels to bytecode with the Pyodide the page runs: `node tools/compile_wheels.mjs
// PYODIDE_DIR WHEEL...` rewrites each WHEEL in place (tools/compile_wheel.py, run inside Pyodide,
// so the .pyc files carry its Python's magic number and cache tag). Used by build.py.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [pyodideDir, ...wheels] = process.argv.slice(2);
if (pyodideDir === undefined || wheels.length === 0) {
  console.error("usage: node tools/compile_wheels.mjs PYODIDE_DIR WHEEL...");
  process.exit(2);
}
const { loadPyodide } = await import(pathToFileURL(resolve(pyodideDir, "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: resolve(pyodideDir) + "/" });
pyodide.FS.mkdirTree("/host");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: "/" }, "/host");
const tools = "/host" + resolve(import.meta.dirname);
const args = wheels.map((wheel) => "/host" + resolve(wheel));
pyodide.globals.set("tools", tools);
pyodide.globals.set("wheels", pyodide.toPy(args));
try {
  pyodide.runPython(`
import sys
sys.path.insert(0, tools)
from compile_wheel import main
status = main(list(wheels))
`);
  process.exit(pyodide.globals.get("status"));
} catch (error) {
  console.error(String(error));
  process.exit(1);
}
