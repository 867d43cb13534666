// The candidate page: polls the kiosk's state every second and shows exactly one screen (the
// others are hidden and out of the tab order); renders items and posts every answer change.
// "Saved" appears only after the server's durable commit.
import { api } from './api.js';
import { onLayoutChange, updateDisplay, wireDisplay } from './display.js';
import { $, announce, el, fragment } from './dom.js';
import { drawNavigator, drawReview, flush, foldAfterChoice, foldNavigator, loadItem, setAct, setRefresh, wireExam } from './exam.js';
import { ui } from './state.js';
import { clockTime, durationWords, durationWordsCoarse } from './timewords.js';
import { closeTools, drawTools, wireTools } from './tools.js';

const SCREENS = ['waiting', 'identity', 'awaiting_start', 'resume_wait', 'monitoring', 'agreement', 'instructions',
                 'exam', 'review', 'submitted', 'fault'];
const EXAM_SCREENS = ['exam', 'review'];

// --- screens --------------------------------------------------------------------------------
function show(screen) {
  if (ui.screen === screen) return;
  const before = ui.screen;
  ui.screen = screen;
  for (const name of SCREENS) $(`screen-${name}`).hidden = name !== screen;
  if (screen !== 'exam') closeTools();
  if (!EXAM_SCREENS.includes(screen) && $('confirm-submit').open) $('confirm-submit').close();
  if (before === null && screen === 'exam') return; // the item heading takes focus once loaded
  const heading = screen === 'exam' ? $('item-heading') : document.querySelector(`#screen-${screen} h1`);
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

function narrowLayout() {
  const main = $('main');
  const em = parseFloat(getComputedStyle(main).fontSize);
  return main.clientWidth / em <= 50;
}

// --- time ------------------------------------------------------------------------------------
function remainingNow() {
  const t = ui.timerBase;
  if (!t) return null;
  return t.running ? t.remaining - (performance.now() - t.at) : t.remaining;
}

function drawTimer() {
  const timer = $('timer');
  const ms = remainingNow();
  const visible = ms !== null && EXAM_SCREENS.includes(ui.screen);
  if (!visible) { timer.hidden = true; return; }
  timer.hidden = !$('timer-toggle').checked && ms >= 5 * 60 * 1000;
  timer.textContent = `${durationWords(ms)} left`;
  timer.classList.toggle('low', ms < 5 * 60 * 1000);
}

// Time changes are announced once, in words: warnings, extensions, pause and resume (never each second).
function announceTime(state) {
  const timer = state.timer;
  if (!timer) return;
  if (ui.allowedMs !== null && timer.allowed_ms > ui.allowedMs && EXAM_SCREENS.includes(ui.screen)) {
    const added = durationWordsCoarse(timer.allowed_ms - ui.allowedMs);
    announce(`The proctor gave you ${added} more. ${durationWordsCoarse(timer.remaining_ms)} left.`);
  }
  ui.allowedMs = timer.allowed_ms;
  if (ui.lastPaused === true && !timer.paused && EXAM_SCREENS.includes(ui.screen)) {
    announce(`The examination continues. ${durationWordsCoarse(timer.remaining_ms)} left.`);
  }
  ui.lastPaused = timer.paused;
}

// --- notices ---------------------------------------------------------------------------------
function drawBanners(state) {
  const warning = state.timer ? state.timer.warning : null;
  if (warning && warning !== ui.lastWarning) {
    ui.lastWarning = warning;
    const text = `${warning} minute${warning === 1 ? '' : 's'} remaining`;
    $('warning-banner').textContent = text;
    $('warning-banner').hidden = false;
    announce(text);
  }
  if (!warning) $('warning-banner').hidden = true;
  const messages = (state.messages || []).filter((m) => !ui.messagesDismissed.has(m.id));
  const last = messages[messages.length - 1];
  $('proctor-message').hidden = !last;
  if (!last) return;
  $('proctor-message').dataset.id = last.id;
  $('proctor-message-time').textContent = last.at ? `at ${clockTime(last.at)}` : '';
  $('proctor-message-text').textContent = last.text;
  if (!ui.messagesSeen.has(last.id)) {
    ui.messagesSeen.add(last.id);
    announce(`Message from the proctor: ${last.text}`);
  }
}

function drawOverlay(state) {
  const timer = state.timer || {};
  const overlay = $('overlay');
  const exam = EXAM_SCREENS.includes(ui.screen);
  if (exam && timer.paused) {
    $('overlay-title').textContent = 'The examination is paused';
    $('overlay-text').textContent = 'A proctor has paused the examination. Your time is stopped. Please wait.';
    $('btn-end-break').hidden = true;
  } else if (exam && timer.on_break) {
    $('overlay-title').textContent = 'Rest break';
    $('overlay-text').textContent = `Your time is stopped. The break ends after ${timer.break_minutes} minutes at most.`;
    $('btn-end-break').hidden = false;
  } else {
    if (overlay.open) overlay.close();
    return;
  }
  if (!overlay.open) {
    for (const dialog of document.querySelectorAll('dialog[open]')) if (dialog !== overlay) dialog.close();
    overlay.showModal();
    ($('btn-end-break').hidden ? $('overlay-title') : $('btn-end-break')).focus();
  }
}

// --- screens' content -------------------------------------------------------------------------
function drawMonitoring(state) {
  const notice = state.monitoring || { checks: [], kept: [], human_review: '' };
  $('monitoring-checks').replaceChildren(...notice.checks.map((c) => el('li', {}, [el('strong', { text: c.title }), ` ${c.text}`])));
  $('monitoring-checks').hidden = !notice.checks.length;
  $('monitoring-none').hidden = notice.checks.length > 0;
  $('monitoring-human').textContent = notice.human_review;
  $('monitoring-kept').replaceChildren(...notice.kept.map((text) => el('li', { text })));
}

function toolList(tools) {
  const names = [];
  if (tools.calculator === 'basic') names.push('a calculator');
  if (tools.calculator === 'scientific') names.push('a scientific calculator');
  if (tools.scratch_pad) names.push('a scratch pad');
  if (tools.highlighter) names.push('a highlighter');
  if (tools.strike_through) names.push('"Strike out" beside each option, to cross out options you have ruled out');
  if (tools.line_reader) names.push('a line reader (Alt with the arrow keys moves it)');
  if (tools.text_to_speech) names.push('"Read aloud", which reads the question and its options');
  return names;
}

function drawInstructions(state) {
  const count = state.item_count || 0;
  const tools = toolList(state.tools || {});
  const lines = [
    `There ${count === 1 ? 'is 1 question' : `are ${count} questions`}. You have ${durationWords(state.timer.allowed_ms)}. `
      + 'The clock starts when you press "Begin the examination" and stops while the examination is paused.',
    'Answer in any order. "Next" and "Previous" move one question; the "Questions" list shows every question: '
      + 'a filled number is answered, a dashed one is flagged.',
    '"Flag for review" marks a question to come back to. It does not change or submit your answer.',
    'Every answer is saved on this kiosk the moment you give it: "Saved" appears once it is stored. '
      + 'If the kiosk or the network fails, nothing is lost.',
    'You are told when 10, 5 and 1 minutes are left. When the time is up, your answers are submitted for you as they are.',
    '"Review and submit" lists answered, unanswered and flagged questions; you can still change answers until you submit.',
    'The "Display" button at the top right changes the text size and contrast at any time.',
  ];
  if (tools.length) lines.push(`Tools you may use: ${tools.join('; ')}.`);
  $('instructions-standard').replaceChildren(...lines.map((text) => el('li', { text })));
  $('instructions-text').replaceChildren(fragment(state.instructions_html));
}

function drawSubmitted(state) {
  $('receipt-code').textContent = state.receipt_code || '';
  const reason = state.submission_reason;
  $('submitted-reason').textContent = reason === 'timeout' ? 'The time was up, so your answers were submitted for you.'
    : reason === 'proctor_end' ? 'The proctor ended your examination; your answers so far were submitted.' : '';
  $('submitted-reason').hidden = !$('submitted-reason').textContent;
}

// A new candidate at this kiosk: forget everything the page knew about the previous one.
function newCandidate(key) {
  ui.attempt = key;
  Object.assign(ui, { reviewing: false, monitoringRead: false, itemIndex: null, item: null, timerBase: null, allowedMs: null,
                      lastWarning: null, lastPaused: null, navNarrow: undefined });
  ui.messagesDismissed.clear();
  for (const id of ['i-name', 'i-id', 'i-seat', 'receipt-code', 'item-heading', 'review-summary', 'announcer', 'polite',
                    'proctor-message-text', 'calc-input', 'calc-result', 'scratch-text']) {
    if ('value' in $(id) && $(id).tagName !== 'OUTPUT') $(id).value = ''; else $(id).textContent = '';
  }
  for (const id of ['item-body', 'review-rows', 'navigator-list', 'agreement-text', 'instructions-text']) $(id).replaceChildren();
  delete $('review-rows').dataset.sig;
  $('agreement-accept').checked = false;
  $('monitoring-accept').checked = false;
  $('btn-agreement').disabled = true;
  $('btn-monitoring').disabled = true;
  $('warning-banner').hidden = true;
  $('timer-toggle').checked = true;
  $('display-panel').hidden = true;
  $('btn-display').setAttribute('aria-expanded', 'false');
  closeTools();
}

function screenOf(state) {
  let screen = state.screen;
  if (screen === 'submitted' && state.receipt_cleared) screen = 'waiting'; // the next candidate's first sight
  if (screen === 'exam' && ui.reviewing) screen = 'review';
  if (!EXAM_SCREENS.includes(screen)) ui.reviewing = false;
  if (screen === 'agreement' && !ui.monitoringRead) screen = 'monitoring';
  return screen;
}

async function render(state) {
  if ((state.attempt_key || null) !== (ui.attempt ?? null)) newCandidate(state.attempt_key || null);
  ui.state = state;
  const online = state.console_connected;
  $('connection').textContent = online ? 'Connected' : 'Offline';
  $('connection').classList.toggle('offline', !online);
  $('connection').title = online ? 'Connected to the proctor console' : 'Console offline: your answers are saved on this kiosk';
  $('w-seat').textContent = state.seat || 'not assigned';
  $('w-kiosk').textContent = state.kiosk_id;
  $('w-console').textContent = online ? 'connected' : 'not connected';
  $('exam-title').textContent = state.title || 'Invigil examination';
  if (state.candidate) {
    $('i-name').textContent = state.candidate.name;
    $('i-id').textContent = state.candidate.id;
    $('i-seat').textContent = state.seat;
  }
  ui.timerBase = state.timer ? { remaining: state.timer.remaining_ms, at: performance.now(), running: state.timer.running } : null;
  updateDisplay(state);
  const screen = screenOf(state);
  if (screen === 'monitoring' && ui.screen !== 'monitoring') drawMonitoring(state);
  if (screen === 'agreement' && ui.screen !== 'agreement') $('agreement-text').replaceChildren(fragment(state.agreement_html));
  if (screen === 'instructions' && ui.screen !== 'instructions') drawInstructions(state);
  if (screen === 'submitted') drawSubmitted(state);
  drawTools(state);
  show(screen);
  announceTime(state);
  drawBanners(state);
  drawOverlay(state);
  drawTimer();
  const timer = state.timer || {};
  $('tool-break').hidden = !(state.accommodations && state.accommodations.granted.rest_breaks > 0);
  $('tool-break').disabled = !(timer.breaks_left > 0);
  $('tool-break').textContent = `Take a rest break (${timer.breaks_left || 0} left)`;
  if (screen === 'exam') {
    foldNavigator(narrowLayout());
    drawNavigator(state);
    // The page decides which item it shows once it has one: a poll answered after a navigation
    // must never re-render (and so wipe) the item the candidate is typing into.
    if (ui.itemIndex === null) await loadItem(state.current, true);
  }
  if (screen === 'review') drawReview(state);
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
  setRefresh(refresh);
  setAct(act);
  wireDisplay();
  const relayout = () => { if (ui.screen === 'exam') foldNavigator(narrowLayout()); };
  onLayoutChange(relayout);
  window.addEventListener('resize', relayout);
  wireExam();
  wireTools();
  $('btn-confirm-identity').addEventListener('click', () => act('confirm_identity'));
  $('monitoring-accept').addEventListener('change', (e) => { $('btn-monitoring').disabled = !e.target.checked; });
  $('btn-monitoring').addEventListener('click', () => { ui.monitoringRead = true; refresh(); });
  $('btn-agreement-back').addEventListener('click', () => { ui.monitoringRead = false; refresh(); });
  $('agreement-accept').addEventListener('change', (e) => { $('btn-agreement').disabled = !e.target.checked; });
  $('btn-agreement').addEventListener('click', async () => {
    await act('agreement', { accepted: $('agreement-accept').checked, monitoring_notice: (ui.state.monitoring || {}).sha256 });
  });
  $('btn-begin').addEventListener('click', () => act('begin'));
  $('btn-receipt-done').addEventListener('click', () => act('receipt_done'));
  $('btn-end-break').addEventListener('click', () => act('break/end'));
  $('overlay').addEventListener('cancel', (e) => e.preventDefault()); // a pause is ended by the proctor
  $('tool-break').addEventListener('click', async () => { await flush(); act('break/start'); });
  $('btn-dismiss-message').addEventListener('click', () => {
    ui.messagesDismissed.add($('proctor-message').dataset.id);
    $('proctor-message').hidden = true;
    const heading = ui.screen === 'exam' ? $('item-heading') : document.querySelector(`#screen-${ui.screen} h1`);
    if (heading) heading.focus();
    if (ui.state) drawBanners(ui.state);
  });
  $('timer-toggle').addEventListener('change', drawTimer); // the time shows again by itself in the last five minutes
  $('tool-list').addEventListener('click', (e) => { if (e.target.closest('button')) foldAfterChoice('tools-toggle', 'tool-list'); });
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
