// The candidate page: polls the kiosk's state every second, shows the matching screen, renders
// items, and posts every answer change. "Saved" appears only after the server's durable commit.
import { api } from './api.js';
import { fragment, renderItem } from './renderers.js';

const $ = (id) => document.getElementById(id);
const SCREENS = ['waiting', 'identity', 'awaiting_start', 'resume_wait', 'agreement', 'instructions',
                 'exam', 'review', 'submitted', 'fault'];

const ui = {
  state: null,
  screen: null,
  reviewing: false,
  itemIndex: null,
  item: null,
  timerBase: null, // {remaining, at, running}
  lastWarning: null,
  lastMessage: null,
  pending: 0,
  navEpoch: 0,
  saveChain: Promise.resolve(),
};

function announce(text) {
  const region = $('announcer');
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 30);
}

function setSaveStatus(text, bad = false) {
  const status = $('save-status');
  status.textContent = text;
  status.classList.toggle('bad', bad);
}

// --- screens --------------------------------------------------------------------------------
function show(screen) {
  if (ui.screen === screen) return;
  ui.screen = screen;
  for (const name of SCREENS) $(`screen-${name}`).hidden = name !== screen;
  const heading = screen === 'exam' ? $('item-heading')
    : document.querySelector(`#screen-${screen} h1, #screen-${screen} h2`);
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

function formatTime(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

function remainingNow() {
  const t = ui.timerBase;
  if (!t) return null;
  return t.running ? t.remaining - (performance.now() - t.at) : t.remaining;
}

function drawTimer() {
  const timer = $('timer');
  const ms = remainingNow();
  if (ms === null || !['exam', 'review'].includes(ui.screen)) { timer.hidden = true; return; }
  timer.hidden = false;
  timer.textContent = `Time left ${formatTime(ms)}`;
  timer.classList.toggle('low', ms < 5 * 60 * 1000);
}

function applyAccommodations(state) {
  const active = (state.accommodations && state.accommodations.active) || {};
  document.body.classList.toggle('large-text', active.large_text === true);
  document.body.classList.toggle('high-contrast', active.high_contrast === true);
  const zoom = typeof active.zoom === 'number' ? active.zoom : 100;
  document.documentElement.style.zoom = zoom === 100 ? '' : `${zoom}%`;
  const granted = (state.accommodations && state.accommodations.granted) || {};
  const tools = {
    large_text: granted.large_text, high_contrast: granted.high_contrast,
    zoom: granted.zoom_percent && granted.zoom_percent !== 100,
  };
  for (const [name, on] of Object.entries(tools)) {
    const button = $(`tool-${name}`);
    button.hidden = !on;
    const pressed = name === 'zoom' ? zoom !== 100 : active[name] === true;
    button.setAttribute('aria-pressed', String(pressed));
    if (name === 'zoom' && on) button.textContent = `Zoom ${granted.zoom_percent}%`;
  }
  const breakButton = $('tool-break');
  const timer = state.timer || {};
  breakButton.hidden = !(granted.rest_breaks > 0);
  breakButton.disabled = !(timer.breaks_left > 0);
  breakButton.textContent = `Take a rest break (${timer.breaks_left || 0} left)`;
}

function drawOverlay(state) {
  const timer = state.timer || {};
  const overlay = $('overlay');
  const exam = ['exam', 'review'].includes(ui.screen);
  if (exam && timer.paused) {
    $('overlay-title').textContent = 'The examination is paused';
    $('overlay-text').textContent = 'A proctor has paused the examination. Your time is stopped. Please wait.';
    $('btn-end-break').hidden = true;
  } else if (exam && timer.on_break) {
    $('overlay-title').textContent = 'Rest break';
    $('overlay-text').textContent = `Your time is stopped. The break ends after ${timer.break_minutes} minutes at most.`;
    $('btn-end-break').hidden = false;
  } else {
    if (!overlay.hidden) { overlay.hidden = true; $('main').inert = false; }
    return;
  }
  if (overlay.hidden) {
    overlay.hidden = false;
    $('main').inert = true;
    ($('btn-end-break').hidden ? $('overlay-title') : $('btn-end-break')).focus();
    $('overlay-title').setAttribute('tabindex', '-1');
  }
}

function drawBanners(state) {
  const warning = state.timer ? state.timer.warning : null;
  if (warning && warning !== ui.lastWarning) {
    ui.lastWarning = warning;
    const text = `${warning} minute${warning === 1 ? '' : 's'} remaining`;
    $('warning-banner').textContent = text;
    $('warning-banner').hidden = false;
    announce(text);
  }
  const messages = state.messages || [];
  const last = messages[messages.length - 1];
  if (last && last.id !== ui.lastMessage) {
    ui.lastMessage = last.id;
    $('proctor-message').textContent = `Message from the proctor: ${last.text}`;
    $('proctor-message').hidden = false;
    announce(`Message from the proctor: ${last.text}`);
  }
}

async function render(state) {
  ui.state = state;
  $('connection').textContent = state.console_connected ? 'Console connected' : 'Console offline: your answers are saved on this kiosk';
  $('w-seat').textContent = state.seat || 'not assigned';
  $('w-kiosk').textContent = state.kiosk_id;
  $('w-console').textContent = state.console_connected ? 'connected' : 'not connected';
  if (state.title) $('exam-title').textContent = state.title;
  if (state.candidate) {
    $('i-name').textContent = state.candidate.name;
    $('i-id').textContent = state.candidate.id;
    $('i-seat').textContent = state.seat;
  }
  if (state.timer) {
    ui.timerBase = { remaining: state.timer.remaining_ms, at: performance.now(), running: state.timer.running };
  }
  let screen = state.screen;
  if (screen === 'exam' && ui.reviewing) screen = 'review';
  if (screen !== 'exam' && screen !== 'review') ui.reviewing = false;
  if (screen === 'agreement' && ui.screen !== 'agreement') {
    $('agreement-text').replaceChildren(fragment(state.agreement_html));
  }
  if (screen === 'instructions' && ui.screen !== 'instructions') {
    $('instructions-text').replaceChildren(fragment(state.instructions_html));
    $('instructions-time').textContent = `You will have ${formatTime(state.timer.allowed_ms)} (hours:minutes:seconds). The clock starts when you begin.`;
  }
  if (screen === 'submitted') $('receipt-code').textContent = state.receipt_code || '';
  show(screen);
  applyAccommodations(state);
  drawBanners(state);
  drawOverlay(state);
  drawTimer();
  if (screen === 'exam') {
    drawNavigator(state);
    // The page decides which item it shows once it has one: a poll answered after a navigation
    // must never re-render (and so wipe) the item the candidate is typing into.
    if (ui.itemIndex === null) await loadItem(state.current, false);
  }
  if (screen === 'review') drawReview(state);
}

// --- exam ------------------------------------------------------------------------------------
function drawNavigator(state) {
  const list = $('navigator-list');
  const items = state.items || [];
  if (list.children.length !== items.length) {
    list.replaceChildren();
    for (const it of items) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'nav-item';
      button.addEventListener('click', () => goTo(it.index));
      const li = document.createElement('li');
      li.append(button);
      list.append(li);
    }
  }
  items.forEach((it, i) => {
    const button = list.children[i].firstChild;
    const status = [it.answered ? 'answered' : 'not answered', it.flagged ? 'flagged' : ''].filter(Boolean).join(', ');
    button.textContent = `${i + 1}${it.flagged ? ' ⚑' : ''}`;
    button.setAttribute('aria-label', `Question ${i + 1}, ${status}`);
    button.classList.toggle('answered', it.answered);
    button.classList.toggle('flagged', it.flagged);
    if (i === state.current) button.setAttribute('aria-current', 'step');
    else button.removeAttribute('aria-current');
  });
}

async function loadItem(index, focus) {
  const item = await api.item(index);
  ui.item = item;
  ui.itemIndex = index;
  $('item-heading').textContent = `Question ${index + 1} of ${item.total}: ${item.title}`;
  renderItem($('item-body'), item, (responseId, value) => save(item.item_id, responseId, value), announce);
  $('btn-flag').setAttribute('aria-pressed', String(item.flagged));
  $('btn-flag').textContent = item.flagged ? 'Flagged for review' : 'Flag for review';
  $('btn-prev').disabled = index === 0;
  $('btn-next').disabled = index === item.total - 1;
  setSaveStatus('');
  if (focus) $('item-heading').focus();
}

function save(itemId, responseId, value) {
  ui.pending += 1;
  setSaveStatus('Saving…');
  // Saves go out one after another so the journal gets them in the order the candidate made them.
  ui.saveChain = ui.saveChain.then(async () => {
    try {
      await api.post('answer', { item_id: itemId, response_id: responseId, value });
      ui.pending -= 1;
      if (ui.pending === 0) setSaveStatus('Saved');
    } catch (err) {
      ui.pending -= 1;
      setSaveStatus(`Not saved: ${err.message}`, true);
      announce(`Your answer was not saved: ${err.message}`);
    }
  });
  return ui.saveChain;
}

async function flush() {
  // A text field saves when it loses focus; wait for that and every queued save.
  if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
  await new Promise((r) => setTimeout(r, 0));
  await ui.saveChain;
}

async function goTo(index) {
  await flush();
  try {
    ui.navEpoch += 1;
    await api.post('navigate', { index });
    if (ui.reviewing) { ui.reviewing = false; }
    await loadItem(index, true);
    await refresh(); // may be a poll from before the navigation, dropped as stale...
    await refresh(); // ...so ask once more for the state after it
  } catch (err) {
    announce(err.message);
  }
}

async function toggleFlag() {
  const item = ui.item;
  const flagged = $('btn-flag').getAttribute('aria-pressed') !== 'true';
  try {
    await api.post('flag', { item_id: item.item_id, flagged });
    item.flagged = flagged;
    $('btn-flag').setAttribute('aria-pressed', String(flagged));
    $('btn-flag').textContent = flagged ? 'Flagged for review' : 'Flag for review';
    announce(flagged ? 'Question flagged for review' : 'Flag removed');
    await refresh();
  } catch (err) {
    announce(err.message);
  }
}

function drawReview(state) {
  const items = state.items || [];
  const answered = items.filter((i) => i.answered).length;
  const flagged = items.filter((i) => i.flagged).length;
  $('review-summary').textContent = `${answered} of ${items.length} answered, ${items.length - answered} unanswered, ${flagged} flagged.`;
  const rows = $('review-rows');
  if (rows.dataset.sig === JSON.stringify(items)) return;
  rows.dataset.sig = JSON.stringify(items);
  rows.replaceChildren();
  for (const it of items) {
    const go = document.createElement('button');
    go.type = 'button';
    go.className = 'mini';
    go.textContent = 'Go to';
    go.setAttribute('aria-label', `Go to question ${it.index + 1}`);
    go.addEventListener('click', () => goTo(it.index));
    const tr = document.createElement('tr');
    const cells = [`${it.index + 1}. ${it.title}`, it.answered ? 'Answered' : 'Unanswered', it.flagged ? 'Flagged' : ''];
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    const td = document.createElement('td');
    td.append(go);
    tr.append(td);
    rows.append(tr);
  }
}

async function openReview() {
  await flush();
  ui.reviewing = true;
  await refresh();
}

// --- polling and wiring -------------------------------------------------------------------------
let refreshing = null;
async function refresh() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    try {
      const epoch = ui.navEpoch;
      const state = await api.state();
      if (epoch !== ui.navEpoch) return; // answered before a navigation: stale, the next poll is not
      await render(state);
    } catch (err) {
      $('connection').textContent = 'The kiosk is not responding';
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

async function act(name, body) {
  try {
    await api.post(name, body);
  } catch (err) {
    announce(err.message);
  }
  await refresh();
}

function wire() {
  $('btn-confirm-identity').addEventListener('click', () => act('confirm_identity'));
  $('agreement-accept').addEventListener('change', (e) => { $('btn-agreement').disabled = !e.target.checked; });
  $('btn-agreement').addEventListener('click', () => act('agreement', { accepted: $('agreement-accept').checked }));
  $('btn-begin').addEventListener('click', () => act('begin'));
  $('btn-prev').addEventListener('click', () => goTo(ui.itemIndex - 1));
  $('btn-next').addEventListener('click', () => goTo(ui.itemIndex + 1));
  $('btn-flag').addEventListener('click', toggleFlag);
  $('btn-review').addEventListener('click', openReview);
  $('btn-back-to-exam').addEventListener('click', async () => { ui.reviewing = false; ui.itemIndex = null; await refresh(); });
  $('btn-submit').addEventListener('click', () => {
    const items = (ui.state && ui.state.items) || [];
    const open = items.filter((i) => !i.answered).length;
    $('confirm-text').textContent = open
      ? `You have ${open} unanswered question${open === 1 ? '' : 's'}. After submitting you cannot change your answers.`
      : 'After submitting you cannot change your answers.';
    $('confirm-submit').hidden = false;
    $('btn-cancel-submit').focus();
  });
  $('btn-cancel-submit').addEventListener('click', () => { $('confirm-submit').hidden = true; $('btn-submit').focus(); });
  $('btn-confirm-submit').addEventListener('click', async () => {
    await flush();
    $('confirm-submit').hidden = true;
    await act('submit', { confirm: true });
  });
  $('btn-end-break').addEventListener('click', () => act('break/end'));
  $('tool-break').addEventListener('click', () => act('break/start'));
  for (const name of ['large_text', 'high_contrast']) {
    $(`tool-${name}`).addEventListener('click', (e) => act('accommodation', { name, value: e.target.getAttribute('aria-pressed') !== 'true' }));
  }
  $('tool-zoom').addEventListener('click', (e) => {
    const granted = ui.state.accommodations.granted.zoom_percent;
    act('accommodation', { name: 'zoom', value: e.target.getAttribute('aria-pressed') === 'true' ? 100 : granted });
  });
  const signal = (kind) => api.post('page_event', { kind }).catch(() => {});
  window.addEventListener('blur', () => signal('focus_lost'));
  window.addEventListener('focus', () => signal('focus_gained'));
  document.addEventListener('visibilitychange', () => signal(document.hidden ? 'visibility_hidden' : 'visibility_visible'));
  document.addEventListener('fullscreenchange', () => signal(document.fullscreenElement ? 'fullscreen_enter' : 'fullscreen_exit'));
}

wire();
refresh();
setInterval(refresh, 1000);
setInterval(drawTimer, 250);
