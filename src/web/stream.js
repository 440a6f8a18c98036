// The page's one EventSource on /api/v3/events. A view says which jobs'
// task updates and which tasks' logs it wants (follow); when that changes
// the stream is reopened, resuming after the last event seen so nothing is
// lost in between. A "resync" (events lost, or a restarted Manager) opens a
// fresh stream and asks the page to reload what it shows.

// Topics every stream carries.
const COMMON = ['/jobs', '/workers', '/workertags', '/status', '/last-rendered', '/lifecycle'];

let source = null;
let want = { jobs: [], tasks: [] };
let key = '';
let lastId = '';
let handler = () => {};
let resyncHandler = () => {};
let stateHandler = () => {};
let retryTimer = null;

export function onEvent(fn) {
	handler = fn;
}

export function onResync(fn) {
	resyncHandler = fn;
}

// fn('live' | 'connecting' | 'offline')
export function onState(fn) {
	stateHandler = fn;
}

// Ask for task updates of jobs and logs of tasks (arrays of IDs, at most
// 256 each); reopens the stream only when that differs from now.
export function follow({ jobs = [], tasks = [] } = {}) {
	const next = { jobs: [...new Set(jobs)].sort().slice(0, 256), tasks: [...new Set(tasks)].sort().slice(0, 256) };
	const k = JSON.stringify(next);
	if (source && k === key) return;
	want = next;
	key = k;
	open(true);
}

function open(resume) {
	clearTimeout(retryTimer);
	if (source) source.close();
	const q = new URLSearchParams();
	if (want.jobs.length) q.set('jobs', want.jobs.join(','));
	if (want.tasks.length) q.set('tasks', want.tasks.join(','));
	if (resume && lastId) q.set('last_event_id', lastId);
	const qs = q.toString();
	const es = new EventSource(`/api/v3/events${qs ? `?${qs}` : ''}`);
	source = es;
	stateHandler('connecting');
	const topics = new Set(COMMON);
	for (const j of want.jobs) {
		topics.add(`/jobs/${j}`);
		topics.add(`/jobs/${j}/last-rendered`);
	}
	for (const t of want.tasks) topics.add(`/tasklog/${t}`);
	for (const topic of topics) {
		es.addEventListener(topic, (e) => {
			if (es !== source) return;
			if (e.lastEventId) lastId = e.lastEventId;
			let data;
			try {
				data = JSON.parse(e.data);
			} catch (err) {
				return;
			}
			if (topic === '/lifecycle' && data.type === 'manager-startup') {
				resync();
				return;
			}
			handler(topic, data);
		});
	}
	es.addEventListener('resync', () => {
		if (es === source) resync();
	});
	let opened = false;
	es.onopen = () => {
		if (es !== source) return;
		stateHandler('live');
		// The browser reconnected by itself. Event IDs start again when
		// the Manager restarts, so resuming may have skipped events
		// without a resync: reload what is shown.
		if (opened) resyncHandler();
		opened = true;
	};
	es.onerror = () => {
		if (es !== source) return;
		if (es.readyState === EventSource.CLOSED) {
			// Refused (not a stream): the browser gives up, we try again.
			stateHandler('offline');
			retryTimer = setTimeout(() => open(true), 5000);
		} else {
			stateHandler('connecting');
		}
	};
}

// A page kept in the back/forward cache must not hold its connection:
// browsers allow only six per host over HTTP/1.1, and the stream takes one.
window.addEventListener('pagehide', () => {
	clearTimeout(retryTimer);
	if (source) source.close();
});
window.addEventListener('pageshow', (e) => {
	if (e.persisted && source) open(true);
});

function resync() {
	lastId = '';
	open(false);
	resyncHandler();
}
