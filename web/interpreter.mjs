// The interpreter PyScript runs (pyscript.json "interpreter"): Pyodide, started at once.
//
// index.html loads this module before PyScript, so Pyodide boots while PyScript starts up rather
// than after it, and as soon as it is up micropip installs the simulator's wheels (pyscript.json
// "ocpp_sim_wheels"): the same wheel -> micropip -> Pyodide chain, done while the page still waits
// for PyScript. PyScript then imports this module (one instance per page) and calls `loadPyodide`,
// which hands over that Pyodide, wheels installed, with PyScript's output hooks. PyScript goes on
// as usual: micropip installs what its "packages" list names (nothing of ours), main.py runs.
import { loadPyodide as startPyodide, version } from "./pyodide/pyodide.mjs";

const config = fetch("./pyscript.json").then((response) => response.json());
const started = startPyodide();
const installed = Promise.all([started, config]).then(async ([pyodide, { ocpp_sim_wheels }]) => {
  performance.mark("ocpp-sim:pyodide");
  await pyodide.loadPackage("micropip");
  const micropip = pyodide.pyimport("micropip");
  try {
    await micropip.install.callKwargs(ocpp_sim_wheels, { keep_going: true });
  } finally {
    micropip.destroy();
  }
  performance.mark("ocpp-sim:wheels");
  return pyodide;
});
installed.catch(() => {}); // reported when PyScript awaits it

export { version };

export async function loadPyodide({ stdout, stderr, packages } = {}) {
  if (packages !== undefined) {
    // PyScript's package cache would pass a frozen lock: pyscript.json says packages_cache never.
    throw new Error("interpreter.mjs: Pyodide is already starting; install packages with micropip");
  }
  const pyodide = await installed;
  if (stdout) {
    pyodide.setStdout({ batched: stdout });
  }
  if (stderr) {
    pyodide.setStderr({ batched: stderr });
  }
  return pyodide;
}
