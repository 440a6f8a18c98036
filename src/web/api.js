// The Manager's API as the dashboard uses it. Every failure becomes an
// ApiError whose message is the server's JSON "message" and the status.

export class ApiError extends Error {
	constructor(status, message) {
		super(status ? `${message} (HTTP ${status})` : message);
		this.status = status;
	}
}

async function request(method, path, body) {
	const opts = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
	if (body !== undefined) {
		opts.headers['Content-Type'] = 'application/json';
		opts.body = JSON.stringify(body);
	}
	let res;
	try {
		res = await fetch(path, opts);
	} catch (e) {
		throw new ApiError(0, `cannot reach the Manager: ${e.message}`);
	}
	const type = res.headers.get('Content-Type') || '';
	if (!res.ok) {
		let message = res.statusText || 'request failed';
		try {
			if (type.includes('json')) {
				const j = await res.json();
				if (j && j.message) message = j.message;
			} else {
				const t = (await res.text()).trim();
				if (t) message = t.slice(0, 300);
			}
		} catch (e) {
			/* keep the status text */
		}
		throw new ApiError(res.status, message);
	}
	if (res.status === 204) return null;
	return type.includes('json') ? res.json() : res.text();
}

const get = (path) => request('GET', path);
const post = (path, body) => request('POST', path, body);
const enc = encodeURIComponent;

export const api = {
	version: () => get('/api/v3/version'),
	farmStatus: () => get('/api/v3/status'),

	jobs({ status, limit, offset } = {}) {
		const q = new URLSearchParams();
		if (status) q.set('status', status);
		if (limit) q.set('limit', String(limit));
		if (offset) q.set('offset', String(offset));
		return get(`/api/v3/jobs?${q}`);
	},
	job: (id) => get(`/api/v3/jobs/${enc(id)}`),
	jobTasks: (id) => get(`/api/v3/jobs/${enc(id)}/tasks`),
	jobBlockers: (id) => get(`/api/v3/jobs/${enc(id)}/blockers`),
	jobGraph: (id) => get(`/api/v3/jobs/${enc(id)}/graph`),
	lastRendered: (id) => get(`/api/v3/jobs/${enc(id)}/last-rendered`),
	setJobStatus: (id, status, reason) => post(`/api/v3/jobs/${enc(id)}/setstatus`, { status, reason }),
	setJobPriority: (id, priority) => post(`/api/v3/jobs/${enc(id)}/setpriority`, { priority }),
	deleteJob: (id) => request('DELETE', `/api/v3/jobs/${enc(id)}`),

	task: (id) => get(`/api/v3/tasks/${enc(id)}`),
	taskLogTail: (id) => get(`/api/v3/tasks/${enc(id)}/logtail`),
	taskLogInfo: (id) => get(`/api/v3/tasks/${enc(id)}/log`),
	setTaskStatus: (id, status, reason) => post(`/api/v3/tasks/${enc(id)}/setstatus`, { status, reason }),

	workers: () => get('/api/v3/worker-mgt/workers'),
	worker: (id) => get(`/api/v3/worker-mgt/workers/${enc(id)}`),
	sleepSchedule: (id) => get(`/api/v3/worker-mgt/workers/${enc(id)}/sleep-schedule`),
	setWorkerStatus: (id, status, isLazy) =>
		post(`/api/v3/worker-mgt/workers/${enc(id)}/setstatus`, { status, is_lazy: isLazy }),

	tags: () => get('/api/v3/worker-mgt/tags'),
	createTag: (name, description) => post('/api/v3/worker-mgt/tags', { name, description }),
	deleteTag: (id) => request('DELETE', `/api/v3/worker-mgt/tag/${enc(id)}`),
};
