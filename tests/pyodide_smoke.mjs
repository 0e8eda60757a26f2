// Runs tests/pyodide_smoke.py inside Pyodide under node:
//   node tests/pyodide_smoke.mjs PYODIDE_DIR
// PYODIDE_DIR is an npm install's node_modules/pyodide (tests/test_pyodide.py makes one
// in ~/.cache/purewasm-pyodide). The repository is mounted at /repo in Pyodide's file system.
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { readFileSync } from "node:fs";

const pyodideDir = process.argv[2];
const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const { loadPyodide } = await import(pathToFileURL(join(pyodideDir, "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: pyodideDir + "/" });
pyodide.mountNodeFS("/repo", repo);
pyodide.runPython("import sys; sys.path.insert(0, '/repo')");
const source = readFileSync(join(repo, "tests", "pyodide_smoke.py"), "utf8");
try {
  pyodide.runPython(source, { filename: "/repo/tests/pyodide_smoke.py" });
} catch (err) {
  console.error(String(err));
  process.exit(1);
}
// The runtime must still be usable after every trap above.
console.log(pyodide.runPython("'alive ' + str(6 * 7)"));
