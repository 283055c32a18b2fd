// Instrumentation for scripts/edge-bench, loaded before the Worker's own
// entry module by trace-entry.mjs (never part of a deployed Worker). It
// records, with workerd's clock (which advances during a request under
// Miniflare), when the first request's Go program starts (go.run) and
// reaches workers.Serve, and collects Go's GODEBUG=inittrace=1 lines: the
// time each package's initialisation took, main's being the schema build.
import "./wasm_exec.js";

export const trace = { inits: [] };

const Base = globalThis.Go;
globalThis.Go = class extends Base {
	constructor() {
		super();
		this.env = { ...this.env, GODEBUG: "inittrace=1" };
	}
	run(instance) {
		trace.run ??= performance.now();
		return super.run(instance);
	}
};

// Go writes inittrace lines to standard error (fd 2), which wasm_exec.js
// sends to console.error line by line: keep them instead.
const fs = globalThis.fs;
const writeSync = fs.writeSync;
const decoder = new TextDecoder();
let pending = "";
fs.writeSync = (fd, buf) => {
	if (fd !== 2) return writeSync.call(fs, fd, buf);
	pending += decoder.decode(buf);
	let nl;
	while ((nl = pending.indexOf("\n")) >= 0) {
		const line = pending.slice(0, nl);
		pending = pending.slice(nl + 1);
		const m = /^init (\S+) @([\d.]+) ms, ([\d.]+) ms clock/.exec(line);
		if (m) trace.inits.push({ pkg: m[1], at: Number(m[2]), ms: Number(m[3]) });
		else console.error(line);
	}
	return buf.length;
};

// The entry module sets globalThis.__forgeWorkers when it starts Go, and Go
// calls its serve once main has reached workers.Serve.
let hook;
Object.defineProperty(globalThis, "__forgeWorkers", {
	configurable: true,
	get: () => hook,
	set: (v) => {
		const serve = v.serve;
		v.serve = (...args) => {
			trace.serve ??= performance.now();
			return serve(...args);
		};
		hook = v;
	},
});
