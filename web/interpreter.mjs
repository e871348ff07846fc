// The interpreter PyScript runs (pyscript.json "interpreter"): Pyodide, started at once.
//
// index.html loads this module before PyScript, so Pyodide boots while PyScript starts up rather
// than after it. PyScript then imports the same module (one instance per page) and calls
// `loadPyodide`, which hands over that Pyodide with PyScript's output hooks. PyScript goes on as
// usual: micropip installs the wheels (pyscript.json "packages"), then main.py runs.
import { loadPyodide as startPyodide, version } from "./pyodide/pyodide.mjs";

const started = startPyodide();
started.catch(() => {}); // reported when PyScript awaits it

export { version };

export async function loadPyodide({ stdout, stderr, packages } = {}) {
  if (packages !== undefined) {
    // PyScript's package cache would pass a frozen lock: pyscript.json says packages_cache never.
    throw new Error("interpreter.mjs: Pyodide is already starting; install packages with micropip");
  }
  const pyodide = await started;
  if (stdout) {
    pyodide.setStdout({ batched: stdout });
  }
  if (stderr) {
    pyodide.setStderr({ batched: stderr });
  }
  return pyodide;
}
