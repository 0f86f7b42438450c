// The three buttons of the maquette inside Pyodide (the WebAssembly Python of
// xlwings Lite), offline, under Node:
//
//   node tests/helpers/run_lite.mjs REQUEST.json
//
// REQUEST.json (written by tests/helpers/pyodide.py):
//   { "pyodide_dir": ".../node_modules/pyodide",      // the npm package: no CDN
//     "micropip": ".../micropip-0.11.1-py3-none-any.whl",
//     "wheels": {"xlwings": ".../xlwings-….whl", "calpae-xl": ".../calpae_xl-….whl"},
//     "requirements": "xlwings==0.37.8\nhttps://…/calpae_xl-0.1.0-py3-none-any.whl\n",
//     "main_py": "from calpae_xl.xlwings_scripts import *…",
//     "runner": ".../lite_runner.py",
//     "cases": {"loiret": ".../loiret.json", …},      // payloads as Office.js sends them
//     "buttons": {"loiret": ["Recalculer", …], …}, "repeat": 1,
//     "out": ".../pyodide_result.json" }
//
// The workbook's requirements.txt is installed as xlwings Lite does, by
// micropip with its dependencies, each line taken from the local folder of
// wheels; a dependency the wheels declared would be fetched by micropip from
// PyPI or Pyodide's CDN (or fail offline): the answer lists what got installed. Book.flush() reaches a stand-in for the Lite client (globalThis.xlwings),
// which records each batch. Writes to "out": timings, what was imported and
// installed, and per case and button the flushed batches and the actions.
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

// a Pyodide error thrown to Node prints the whole minified pyodide.asm.mjs line first
process.on("uncaughtException", (e) => { console.error(`run_lite: ${e.message ?? e}`); process.exit(1); });
process.on("unhandledRejection", (e) => { console.error(`run_lite: ${e?.message ?? e}`); process.exit(1); });

const now = () => performance.now() / 1000;
const request = JSON.parse(readFileSync(process.argv[2], "utf8"));
const pyodideDir = resolve(request.pyodide_dir);
const { loadPyodide, version } = await import(pathToFileURL(join(pyodideDir, "pyodide.mjs")).href);

// the Lite client's part of Book.flush(): apply a batch of actions (here: keep it)
let flushed = [];
globalThis.xlwings = { runActions: async (batch) => { flushed.push(batch); } };
globalThis.calpaeTakeFlushed = () => { const f = flushed; flushed = []; return JSON.stringify(f); };

const timings = {};
let t = now();
const pyodide = await loadPyodide({
  indexURL: pyodideDir + "/",
  env: { XLWINGS_LICENSE_KEY: "noncommercial", HOME: "/home/pyodide" },
  stdout: (s) => process.stderr.write(`[py] ${s}\n`),
  stderr: (s) => process.stderr.write(`[py:err] ${s}\n`),
});
timings.load_s = now() - t;

// micropip: Pyodide's npm package ships none (its packages live on the CDN): PyPI's wheel, unzipped
t = now();
const site = pyodide.runPython("import sysconfig; sysconfig.get_paths()['purelib']");
// a Node Buffer is refused ("Unknown typed array type 'Buffer'"): copy to a Uint8Array
pyodide.unpackArchive(new Uint8Array(readFileSync(request.micropip)), "wheel", { extractDir: site });
pyodide.FS.mkdirTree("/wheels");
const local = {};
for (const [name, file] of Object.entries(request.wheels)) {
  const target = "/wheels/" + basename(file);
  pyodide.FS.writeFile(target, new Uint8Array(readFileSync(resolve(file))));
  local[name] = "emfs:" + target;
}
pyodide.FS.writeFile(join(site, "lite_runner.py"), readFileSync(request.runner));
const ns = pyodide.globals.get("dict")();
ns.set("requirements", request.requirements);
ns.set("local", pyodide.toPy(local));
const installed = JSON.parse(await pyodide.runPythonAsync(`
import json, re, importlib, micropip
wanted = []
for line in requirements.splitlines():
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    if line.endswith(".whl"):  # a wheel's address: the same file, from the local folder
        name = line.rsplit("/", 1)[-1].split("-", 1)[0].replace("_", "-")
    else:                      # name==version
        name = re.split(r"[=<>!~ ;\\[]", line, maxsplit=1)[0]
    wanted.append(local[name.lower()])
await micropip.install(wanted)  # deps=True, as xlwings Lite installs requirements.txt
importlib.invalidate_caches()
json.dumps({"requested": wanted, "installed": sorted(p.name for p in micropip.list().values())})
`, { globals: ns }));
timings.install_s = now() - t;

t = now();
ns.set("main_py", request.main_py);
const prepared = JSON.parse(pyodide.runPython("import json, lite_runner; json.dumps(lite_runner.prepare(main_py))",
  { globals: ns }));
prepared.absent = JSON.parse(pyodide.runPython("import json, lite_runner; json.dumps(lite_runner.absent())"));
timings.prepare_s = now() - t;

// each payload as Lite hands it over: a JS object (getBookData()) converted by .to_py()
const transfer = {};
pyodide.runPython("cases = {}", { globals: ns });
for (const [name, file] of Object.entries(request.cases)) {
  ns.set("case_name", name);
  ns.set("payload_js", JSON.parse(readFileSync(file, "utf8")));
  t = now();
  pyodide.runPython("cases[case_name] = payload_js.to_py()", { globals: ns });
  transfer[name] = now() - t;
}
timings.transfer_s = transfer;

ns.set("buttons", pyodide.toPy(request.buttons));
ns.set("repeat", request.repeat ?? 1);
t = now();
const clicks = JSON.parse(await pyodide.runPythonAsync(
  "import json, lite_runner\njson.dumps(await lite_runner.run_cases(cases, buttons, repeat))", { globals: ns }));
timings.clicks_total_s = now() - t;

const result = { pyodide: version, installed, prepared, timings, clicks };
writeFileSync(request.out, JSON.stringify(result));
const summary = Object.entries(clicks).map(([c, bs]) =>
  `${c}: ` + Object.entries(bs).map(([b, r]) => `${b} ${r.n_actions} actions ${Math.min(...r.times_s).toFixed(3)} s`)
    .join(", "));
console.log(`pyodide ${version} (Python ${prepared.python}) load ${timings.load_s.toFixed(2)} s, ` +
  `install ${timings.install_s.toFixed(2)} s, imports ${timings.prepare_s.toFixed(2)} s; ${summary.join("; ")}`);
