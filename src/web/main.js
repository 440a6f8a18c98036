// The dashboard's entry point: hash routes to views, the header (farm
// status, connection), and the one event stream feeding the current view.
//
// A view is { title, follow(), mount(el, ctx), load(), event(topic, data),
// unmount() }: follow() names the jobs and tasks whose events it needs,
// load() fetches and draws, event() applies one live change. Events that
// arrive while the view loads are held and applied once it has drawn.

import { api } from './api.js';
import * as stream from './stream.js';
import { setBadge, tickTimes, toast } from './ui.js';
import { jobsView } from './jobs.js';
import { jobView } from './job.js';
import { taskView } from './task.js';
import { workersView, tagsView } from './workers.js';

const main = document.getElementById('view');
const farm = document.getElementById('farm-status');
const live = document.getElementById('live');
const MAX_HELD = 10000;

let current = null;

function parseHash() {
	const raw = location.hash.replace(/^#\/?/, '');
	const [path, query = ''] = raw.split('?');
	const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
	return { parts, query: new URLSearchParams(query) };
}

function route(parts, query) {
	if (parts[0] === 'jobs' && parts[1] && parts[2] === 'tasks' && parts[3]) return taskView(parts[3], parts[1]);
	if (parts[0] === 'tasks' && parts[1]) return taskView(parts[1], null);
	if (parts[0] === 'jobs' && parts[1]) return jobView(parts[1]);
	if (parts[0] === 'workers') return workersView();
	if (parts[0] === 'tags') return tagsView();
	return jobsView(query);
}

const ctx = {
	// The view's wishes changed (e.g. it learnt its job's ID).
	refollow() {
		if (current) stream.follow(current.view.follow());
	},
	navigate(hash, replace) {
		if (replace) location.replace(hash);
		else location.hash = hash;
	},
};

function show() {
	const { parts, query } = parseHash();
	if (current && current.view.unmount) current.view.unmount();
	const view = route(parts, query);
	const state = { view, ready: false, held: [], gen: 0, overflow: false };
	current = state;
	for (const a of document.querySelectorAll('nav a')) {
		if (a.dataset.nav === (parts[0] === 'tasks' ? 'jobs' : parts[0] || 'jobs')) a.setAttribute('aria-current', 'page');
		else a.removeAttribute('aria-current');
	}
	// Keep the focus on a control that the new view has too (the jobs
	// filter), else move it to the view so reading starts there.
	const focused = document.activeElement;
	const focusId = focused && main.contains(focused) && focused.id;
	main.textContent = '';
	main.setAttribute('aria-busy', 'true');
	document.title = `${view.title} · Flamenco Manager`;
	view.mount(main, ctx);
	const again = focusId && document.getElementById(focusId);
	if (again) again.focus();
	else if (focused && focused !== document.body) main.focus({ preventScroll: true });
	window.scrollTo(0, 0);
	stream.follow(view.follow());
	load(state);
}

async function load(state) {
	const gen = ++state.gen;
	state.ready = false;
	try {
		await state.view.load();
	} catch (e) {
		if (state === current && gen === state.gen) {
			toast(e.message, 'error');
			if (state.view.failed) state.view.failed(e);
		}
	}
	if (state !== current || gen !== state.gen) return;
	main.removeAttribute('aria-busy');
	state.ready = true;
	const held = state.held;
	state.held = [];
	if (state.overflow) {
		state.overflow = false;
		load(state);
		return;
	}
	for (const [topic, data] of held) state.view.event(topic, data);
}

stream.onEvent((topic, data) => {
	if (topic === '/status') setBadge(farm, data.status, 'farm');
	if (!current) return;
	if (current.ready) {
		current.view.event(topic, data);
	} else if (current.held.length < MAX_HELD) {
		current.held.push([topic, data]);
	} else {
		current.overflow = true;
	}
});

stream.onResync(() => {
	header();
	if (current) load(current);
});

stream.onState((state) => {
	live.className = `live ${state}`;
	live.title = { live: 'Following live events', connecting: 'Connecting to the event stream…', offline: 'Not connected to the Manager' }[state];
	live.querySelector('span').textContent = { live: 'live', connecting: 'connecting', offline: 'offline' }[state];
});

async function header() {
	try {
		const [version, status] = await Promise.all([api.version(), api.farmStatus()]);
		document.getElementById('manager-name').textContent = version.name;
		document.getElementById('manager-version').textContent = version.version;
		setBadge(farm, status.status, 'farm');
	} catch (e) {
		toast(e.message, 'error');
	}
}

window.addEventListener('hashchange', show);
setInterval(() => tickTimes(main), 10000);
header();
show();
