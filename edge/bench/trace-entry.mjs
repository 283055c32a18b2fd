// The entry module scripts/edge-bench gives a traced copy of the Go Worker:
// trace-setup.mjs first, then the Worker's own worker.mjs, whose fetch it
// wraps. The first response carries the trace in an x-forge-trace header
// (milliseconds): from the request's arrival to go.run, from go.run to
// workers.Serve, from workers.Serve to the response, and the package inits.
import { trace } from "./trace-setup.mjs";
import worker from "./worker.mjs";

export default {
	async fetch(request, env, ctx) {
		const first = trace.start === undefined;
		if (first) trace.start = performance.now();
		const res = await worker.fetch(request, env, ctx);
		if (first) {
			trace.end = performance.now();
			res.headers.set("x-forge-trace", JSON.stringify(trace));
		}
		return res;
	},
};
