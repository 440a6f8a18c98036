#!/usr/bin/env node
// Cross-check of the job-type golden files (test tooling only; never shipped or embedded).
//
// Runs scripts/<type with - as _>.js under Node in a model of Flamenco's job-compiler
// environment (author, path with Go semantics, frameChunker,
// frameCount, formatTimestampLocal in UTC, shellSplit, process) against every
// tests/jobc/<type>/<case>.in.json and compares with <case>.out.json. It also checks the
// JOB_TYPE of the built-in scripts against the settings Flamenco's built-ins have and prints each etag,
// and checks this environment model itself against tests/fixtures/jobtypes.
//
// Usage: node tests/jobc/node_oracle.js [-v] [--scripts DIR]   (exit status 1 on any mismatch)
//   --scripts DIR   take the job-type scripts from DIR instead of scripts/ (e.g. a down-levelled
//                   copy; a global __fm_iter, as the Manager's transpiler expects, is provided)
"use strict";

const fs = require("fs");
const nodePath = require("path");
const vm = require("vm");
const crypto = require("crypto");

const HERE = __dirname;
const REPO = nodePath.resolve(HERE, "..", "..");
const scriptsArg = process.argv.indexOf("--scripts");
const SCRIPTS = scriptsArg > 0 ? nodePath.resolve(process.argv[scriptsArg + 1]) : nodePath.join(REPO, "scripts");
const FIXTURES = nodePath.join(REPO, "tests", "fixtures", "jobtypes");
const verbose = process.argv.includes("-v");

// ---------------------------------------------------------------------------------------
// The environment

// Go's path.Clean.
function goClean(p) {
    if (p === "") return ".";
    const rooted = p.startsWith("/");
    const out = [];
    for (const part of p.split("/")) {
        if (part === "" || part === ".") continue;
        if (part === "..") {
            if (out.length && out[out.length - 1] !== "..") out.pop();
            else if (!rooted) out.push("..");
            continue;
        }
        out.push(part);
    }
    const s = (rooted ? "/" : "") + out.join("/");
    return s === "" ? "." : s;
}

const pathModule = {
    join(...parts) {
        const nonEmpty = parts.filter((p) => p !== "");
        if (nonEmpty.length === 0) return "";
        return goClean(nonEmpty.join("/")).replace(/\\/g, "/");
    },
    basename(p) {
        p = p.replace(/\\/g, "/");
        if (p === "") return ".";
        p = p.replace(/\/+$/, "");
        if (p === "") return "/";
        return p.slice(p.lastIndexOf("/") + 1);
    },
    dirname(p) {
        if (p === "") return ".";
        p = p.replace(/\\/g, "/");
        const i = p.lastIndexOf("/");
        if (i < 0) return ".";
        if (i === 0) return "/";
        return p.slice(0, i);
    },
    stem(p) {
        const base = pathModule.basename(p);
        const dot = base.lastIndexOf(".");
        return dot < 0 ? base : base.slice(0, dot);
    },
};

// Sorted unique frames of a range string, or throws.
function parseFrames(range) {
    const trimmed = String(range).trim();
    if (trimmed === "") throw new Error(`invalid range "${trimmed}": empty range`);
    const frames = new Set();
    for (const part of trimmed.replaceAll("..", "-").split(",")) {
        const pieces = part.split("-").map((s) => s.trim());
        const num = (s) => {
            if (!/^[0-9]+$/.test(s)) throw new Error(`invalid range "${trimmed}": ${part.trim()}`);
            return parseInt(s, 10);
        };
        if (pieces.length === 1) {
            frames.add(num(pieces[0]));
        } else if (pieces.length === 2) {
            const a = num(pieces[0]), b = num(pieces[1]);
            for (let f = a; f <= b; f++) frames.add(f);
        } else {
            throw new Error(`invalid range "${trimmed}": ${part.trim()}`);
        }
    }
    if (frames.size === 0) throw new Error(`invalid range "${trimmed}": empty range`);
    return [...frames].sort((a, b) => a - b);
}

function frameChunker(range, chunkSize) {
    const frames = parseFrames(range);
    if (!(chunkSize >= 1)) throw new Error(`invalid chunk size, must be positive number: ${chunkSize}`);
    const chunks = [];
    for (let i = 0; i < frames.length; i += chunkSize) {
        const group = frames.slice(i, i + chunkSize);
        const runs = [];
        let start = 0;
        for (let j = 1; j <= group.length; j++) {
            if (j < group.length && group[j] === group[j - 1] + 1) continue;
            const a = group[start], b = group[j - 1], n = j - start;
            runs.push(n >= 3 ? `${a}-${b}` : n === 2 ? `${a},${b}` : `${a}`);
            start = j;
        }
        chunks.push(runs.join(","));
    }
    return chunks;
}

const frameCount = (range) => parseFrames(range).length;

function formatTimestampLocal(t) {
    const d = t instanceof Date ? t : new Date(t);
    const p = (n) => String(n).padStart(2, "0");
    return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}_` +
        `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

// POSIX-shell word splitting: quotes, backslash escapes; throws on an unclosed quote.
function shellSplit(s) {
    const words = [];
    let cur = "", inWord = false, i = 0;
    while (i < s.length) {
        const c = s[i];
        if (c === "'") {
            const end = s.indexOf("'", i + 1);
            if (end < 0) throw new Error("EOF found when expecting closing quote");
            cur += s.slice(i + 1, end); inWord = true; i = end + 1;
        } else if (c === '"') {
            i++;
            for (;;) {
                if (i >= s.length) throw new Error("EOF found when expecting closing quote");
                if (s[i] === '"') { i++; break; }
                if (s[i] === "\\" && i + 1 < s.length && '\\"$`\n'.includes(s[i + 1])) {
                    if (s[i + 1] !== "\n") cur += s[i + 1];
                    i += 2;
                } else {
                    cur += s[i++];
                }
            }
            inWord = true;
        } else if (c === "\\") {
            if (i + 1 < s.length && s[i + 1] !== "\n") { cur += s[i + 1]; inWord = true; }
            i += 2;
        } else if (" \t\n".includes(c)) {
            if (inWord) { words.push(cur); cur = ""; inWord = false; }
            i++;
        } else {
            cur += c; inWord = true; i++;
        }
    }
    if (inWord) words.push(cur);
    return words;
}

class Task {
    constructor(name, type) {
        name = String(name).trim();
        type = String(type).trim();
        if (name === "") throw new Error("author.Task(name, type): name is required");
        if (type === "") throw new Error("author.Task(name, type): type is required");
        this.uUID = crypto.randomUUID();
        this.name = name;
        this.type = type;
        this.priority = 50;
        this.commands = [];
        this.dependencies = [];
    }
    addCommand(cmd) { this.commands.push(cmd); }
    addDependency(task) { this.dependencies.push(task); }
}

const author = {
    Task: (name, type) => new Task(name, type),
    Command: (name, parameters, totalStepCount = 0) => ({ name, parameters, totalStepCount }),
};

// A job as the script sees it; addTask stores a snapshot.
function makeJob(submitted) {
    const stored = [];
    const job = {
        jobID: crypto.randomUUID(),
        workerTagUUID: submitted.worker_tag || "",
        name: submitted.name,
        jobType: submitted.type,
        priority: submitted.priority,
        status: "under-construction",
        created: submitted.created ? new Date(submitted.created) : new Date(),
        settings: JSON.parse(JSON.stringify(submitted.settings || {})),
        metadata: JSON.parse(JSON.stringify(submitted.metadata || {})),
        storage: { shamanCheckoutID: "" },
        tasks: [],
        addTask(task) {
            stored.push({
                uuid: task.uUID,
                name: task.name,
                type: task.type,
                priority: task.priority,
                commands: JSON.parse(JSON.stringify(task.commands)),
                dependencies: task.dependencies.map((t) => t.uUID),
            });
        },
    };
    return { job, stored };
}

// Result in the golden-file format: dependencies by task name.
function result(job, stored) {
    const names = new Map(stored.map((t) => [t.uuid, t.name]));
    return {
        settings: job.settings,
        tasks: stored.map((t) => ({
            name: t.name,
            type: t.type,
            priority: t.priority,
            commands: t.commands,
            dependencies: t.dependencies.map((u) => {
                if (!names.has(u)) throw new Error(`task "${t.name}" depends on a task not in the job`);
                return names.get(u);
            }),
        })),
    };
}

// A fresh strict-mode VM per run; returns { jobType, compile(submitted) }.
function loadScript(file) {
    const logs = [];
    const ctx = vm.createContext({
        author, path: pathModule, process: { platform: "linux", cwd: () => "/" },
        frameChunker, frameCount, formatTimestampLocal, shellSplit,
        print: (...a) => logs.push(a.join(" ")), alert: (...a) => logs.push(a.join(" ")),
        __fm_iter: (x) => (Array.isArray(x) ? x : Array.from(x)),
        require: (name) => ({ author, path: pathModule, process: ctx.process })[name],
    });
    vm.runInContext('"use strict";\n' + fs.readFileSync(file, "utf8"), ctx, { filename: file });
    const jobType = vm.runInContext("typeof JOB_TYPE === 'undefined' ? undefined : JOB_TYPE", ctx);
    const compileJob = vm.runInContext("typeof compileJob === 'undefined' ? undefined : compileJob", ctx);
    return {
        jobType,
        compile(submitted) {
            const { job, stored } = makeJob(submitted);
            try {
                compileJob(job);
            } catch (e) {
                const msg = e && typeof e === "object" && "message" in e ? e.message : String(e);
                return { error: { status: 400, message: msg } };
            }
            return JSON.parse(JSON.stringify(result(job, stored)));
        },
    };
}

// ---------------------------------------------------------------------------------------
// Comparison (JSON numbers by value, object key order ignored)

function diff(want, got, where = "$") {
    if (typeof want !== typeof got || Array.isArray(want) !== Array.isArray(got) ||
        (want === null) !== (got === null)) {
        return [`${where}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`];
    }
    if (Array.isArray(want)) {
        const out = [];
        if (want.length !== got.length) out.push(`${where}: want ${want.length} items, got ${got.length}`);
        for (let i = 0; i < Math.min(want.length, got.length); i++) out.push(...diff(want[i], got[i], `${where}[${i}]`));
        return out;
    }
    if (want && typeof want === "object") {
        const out = [];
        for (const k of new Set([...Object.keys(want), ...Object.keys(got)])) {
            if (!(k in got)) out.push(`${where}.${k}: missing`);
            else if (!(k in want)) out.push(`${where}.${k}: unexpected ${JSON.stringify(got[k])}`);
            else out.push(...diff(want[k], got[k], `${where}.${k}`));
        }
        return out;
    }
    return want === got ? [] : [`${where}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`];
}

// ---------------------------------------------------------------------------------------
// Etag: SHA-1 of Go's compact JSON of the job type, fixed key order

const SETTING_KEYS = ["choices", "default", "description", "editable", "eval", "evalInfo", "key",
                      "label", "propargs", "required", "subtype", "type", "visible"];

function goJSON(v) {
    return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g,
        (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

function etagInput(name, jt) {
    const canon = {};
    if (jt.description !== undefined) canon.description = jt.description;
    canon.etag = "";
    canon.label = jt.label;
    canon.name = name;
    canon.settings = jt.settings.map((s) => {
        const o = {};
        for (const k of SETTING_KEYS) {
            if (s[k] === undefined) continue;
            if (k === "evalInfo") o[k] = { description: s[k].description, showLinkButton: s[k].showLinkButton };
            else if (k === "propargs") o[k] = Object.fromEntries(Object.keys(s[k]).sort().map((p) => [p, s[k][p]]));
            else o[k] = s[k];
        }
        return o;
    });
    return goJSON(canon);
}

const etagOf = (name, jt) => crypto.createHash("sha1").update(etagInput(name, jt), "utf8").digest("hex");

// ---------------------------------------------------------------------------------------
// The built-in job types' interface, descriptions and labels left out

const BUILTIN = {
    "echo-sleep-test": {
        label: "Echo Sleep Test",
        settings: [
            { key: "message", type: "string", required: true },
            { key: "sleep_duration_seconds", type: "int32", default: 1 },
            { key: "sleep_repeats", type: "int32", default: 1 },
        ],
    },
    "simple-blender-render": {
        label: "Simple Blender Render",
        settings: [
            { key: "frames", type: "string", required: true, eval: "f'{C.scene.frame_start}-{C.scene.frame_end}'", evalInfo: { showLinkButton: true } },
            { key: "chunk_size", type: "int32", default: 1, visible: "submission" },
            { key: "render_output_root", type: "string", subtype: "dir_path", required: true, visible: "submission" },
            { key: "add_path_components", type: "int32", required: true, default: 0, propargs: { min: 0, max: 32 }, visible: "submission" },
            { key: "render_output_path", type: "string", subtype: "file_path", editable: false, eval: "str(Path(abspath(settings.render_output_root), last_n_dir_parts(settings.add_path_components), jobname, '{timestamp}', '######'))" },
            { key: "blendfile", type: "string", required: true, visible: "web" },
            { key: "fps", type: "float", eval: "C.scene.render.fps / C.scene.render.fps_base", visible: "hidden" },
            { key: "format", type: "string", required: true, eval: "C.scene.render.image_settings.file_format", visible: "web" },
            { key: "image_file_extension", type: "string", required: true, eval: "C.scene.render.file_extension", visible: "hidden" },
            { key: "has_previews", type: "bool", required: false, eval: "C.scene.render.image_settings.use_preview", visible: "hidden" },
            { key: "scene", type: "string", required: true, eval: "C.scene.name", visible: "web" },
        ],
    },
};

function checkJobType(name, jt) {
    const problems = [];
    const want = BUILTIN[name];
    if (!want) return problems;
    if (jt.label !== want.label) problems.push(`label: want ${want.label}, got ${jt.label}`);
    const stripped = jt.settings.map((s) => {
        const o = { ...s };
        if (typeof o.description !== "string" || o.description === "") problems.push(`setting ${s.key}: no description`);
        delete o.description;
        if (o.evalInfo) {
            if (typeof o.evalInfo.description !== "string" || o.evalInfo.description === "") problems.push(`setting ${s.key}: evalInfo without description`);
            o.evalInfo = { showLinkButton: o.evalInfo.showLinkButton };
        }
        return o;
    });
    problems.push(...diff(JSON.parse(JSON.stringify(want.settings)), JSON.parse(JSON.stringify(stripped)), "settings"));
    const order = jt.settings.map((s) => s.key).join(",");
    const wantOrder = want.settings.map((s) => s.key).join(",");
    if (order !== wantOrder) problems.push(`setting order: want ${wantOrder}, got ${order}`);
    return problems;
}

// ---------------------------------------------------------------------------------------

let failures = 0;
let passes = 0;
function report(label, problems) {
    if (problems.length === 0) {
        passes++;
        if (verbose) console.log(`ok   ${label}`);
        return;
    }
    failures++;
    console.log(`FAIL ${label}`);
    for (const p of problems.slice(0, 20)) console.log(`     ${p}`);
}

// 1. The environment model against the shared fixtures (Flamenco's own results).
if (fs.existsSync(FIXTURES)) {
    for (const name of ["environment", "es2015"]) {
        const script = loadScript(nodePath.join(FIXTURES, `fixture_${name}.js`));
        const submitted = JSON.parse(fs.readFileSync(nodePath.join(FIXTURES, `${name}.job.json`), "utf8"));
        const want = JSON.parse(fs.readFileSync(nodePath.join(FIXTURES, `${name}.expected.json`), "utf8"));
        report(`fixture ${name} (environment model)`, diff(want, script.compile(submitted)));
    }
    const errs = JSON.parse(fs.readFileSync(nodePath.join(FIXTURES, "errors.expected.json"), "utf8"));
    for (const [mode, want] of Object.entries(errs)) {
        const script = loadScript(nodePath.join(FIXTURES, "fixture_errors.js"));
        const submitted = JSON.parse(fs.readFileSync(nodePath.join(FIXTURES, `errors-${mode}.job.json`), "utf8"));
        const got = script.compile(submitted);
        const problems = [];
        if (want.tasks) {
            problems.push(...diff(want.tasks, (got.tasks || []).map((t) => t.name), "tasks"));
        } else if (!got.error) {
            problems.push("expected an error");
        } else if (want.message !== null && !got.error.message.includes(want.message)) {
            problems.push(`message: want ${JSON.stringify(want.message)}, got ${JSON.stringify(got.error.message)}`);
        }
        report(`fixture errors-${mode} (environment model)`, problems);
    }
}

// 2. Built-in JOB_TYPEs and the golden cases.
const types = fs.readdirSync(HERE, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
for (const type of types) {
    const file = nodePath.join(SCRIPTS, type.replaceAll("-", "_") + ".js");
    if (!fs.existsSync(file)) {
        report(`${type}: script`, [`${file} missing`]);
        continue;
    }
    const { jobType } = loadScript(file);
    report(`${type}: JOB_TYPE matches Flamenco's built-in`, checkJobType(type, jobType));
    console.log(`etag ${type} ${etagOf(type, jobType)}`);
    if (verbose) console.log(`     over ${etagInput(type, jobType)}`);

    const cases = fs.readdirSync(nodePath.join(HERE, type)).filter((f) => f.endsWith(".in.json")).sort();
    for (const c of cases) {
        const base = c.slice(0, -".in.json".length);
        const submitted = JSON.parse(fs.readFileSync(nodePath.join(HERE, type, c), "utf8"));
        const want = JSON.parse(fs.readFileSync(nodePath.join(HERE, type, `${base}.out.json`), "utf8"));
        const problems = [];
        if (submitted.type !== type) problems.push(`in.json type ${submitted.type} is not ${type}`);
        problems.push(...diff(want, loadScript(file).compile(submitted)));
        report(`${type}/${base}`, problems);
    }
}

console.log(`${passes} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
