// The exam screen: navigator, the current question, saving, flags; the review screen and the
// submit confirmation (a real modal dialog: focus stays in it, Escape closes it).
import { api } from './api.js';
import { $, announce, el } from './dom.js';
import { renderItem } from './renderers.js';
import { ui } from './state.js';
import { applyHighlights, stopSpeech, strikeContext, toolsOf } from './tools.js';

function setSaveStatus(text, bad = false) {
  const status = $('save-status');
  status.textContent = text;
  status.classList.toggle('bad', bad);
}

// --- navigator ----------------------------------------------------------------------------------
export function drawNavigator(state) {
  const list = $('navigator-list');
  const items = state.items || [];
  if (list.children.length !== items.length) {
    list.replaceChildren();
    for (const it of items) {
      const button = el('button', { type: 'button', className: 'nav-item' });
      button.addEventListener('click', () => { foldAfterChoice('nav-toggle', 'navigator-list'); goTo(it.index); });
      list.append(el('li', {}, [button]));
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
  const answered = items.filter((i) => i.answered).length;
  $('nav-toggle').textContent = `Questions (${answered} of ${items.length} answered)`;
}

// On a narrow screen (large text, zoom, 1024 px) the question list and the tools fold into a row
// of buttons, so the question itself is in view; on a wide one they stay open beside it.
const FOLDS = [['nav-toggle', 'navigator-list'], ['tools-toggle', 'tool-list']];

function setFold(toggle, list, open) {
  $(list).hidden = !open;
  $(toggle).setAttribute('aria-expanded', String(open));
}

export function foldNavigator(narrow) {
  if (ui.navNarrow === narrow) return;
  ui.navNarrow = narrow;
  for (const [toggle, list] of FOLDS) setFold(toggle, list, !narrow);
}

// A choice made in a fold-out list closes it again (only where it folds).
export function foldAfterChoice(toggle, list) {
  if (ui.navNarrow) setFold(toggle, list, false);
}

// --- the current question -------------------------------------------------------------------------
export async function loadItem(index, focus) {
  const item = await api.item(index);
  ui.item = item;
  ui.itemIndex = index;
  stopSpeech();
  $('item-heading').textContent = `Question ${index + 1} of ${item.total}: ${item.title}`;
  const tools = toolsOf(ui.state || {});
  renderItem($('item-body'), item, (responseId, value) => save(item.item_id, responseId, value), announce,
             { strike: strikeContext(item, tools), onEnlarge: enlarge });
  applyHighlights();
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

export async function flush() {
  // A text field saves when it loses focus; wait for that and every queued save.
  if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
  await new Promise((r) => setTimeout(r, 0));
  await ui.saveChain;
}

let refresh = async () => {};
export function setRefresh(fn) { refresh = fn; }

export async function goTo(index) {
  await flush();
  try {
    ui.navEpoch += 1;
    await api.post('navigate', { index });
    ui.reviewing = false;
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
    announce(flagged ? 'Question flagged for review' : 'Flag removed', true);
    await refresh();
  } catch (err) {
    announce(err.message);
  }
}

// --- image viewer ---------------------------------------------------------------------------------
let imageScale = 2;
let imageOpener = null;

function drawImage() {
  const img = $('image-large');
  if (!img.naturalWidth) return;
  img.style.width = `${Math.round(img.naturalWidth * imageScale)}px`;
  $('btn-image-smaller').disabled = imageScale <= 1;
  $('btn-image-larger').disabled = imageScale >= 6;
}

function enlarge(src, alt, opener) {
  imageOpener = opener;
  imageScale = 2;
  const img = $('image-large');
  img.onload = drawImage;
  img.alt = alt;
  img.src = src;
  $('h-image').textContent = `Enlarged image: ${alt}`;
  $('image-viewer').showModal();
  drawImage();
  $('btn-image-close').focus();
}

// --- review and submit ---------------------------------------------------------------------------
export function drawReview(state) {
  const items = state.items || [];
  const answered = items.filter((i) => i.answered).length;
  const flagged = items.filter((i) => i.flagged).length;
  $('review-summary').textContent = `${answered} of ${items.length} answered, ${items.length - answered} unanswered, ${flagged} flagged.`;
  const rows = $('review-rows');
  if (rows.dataset.sig === JSON.stringify(items)) return;
  rows.dataset.sig = JSON.stringify(items);
  rows.replaceChildren();
  for (const it of items) {
    const go = el('button', { type: 'button', className: 'mini', text: 'Go to', 'aria-label': `Go to question ${it.index + 1}` });
    go.addEventListener('click', () => goTo(it.index));
    const cells = [`${it.index + 1}. ${it.title}`, `${it.answered ? 'Answered' : 'Unanswered'}${it.flagged ? ', flagged' : ''}`];
    rows.append(el('tr', {}, [...cells.map((text) => el('td', { text })), el('td', {}, [go])]));
  }
}

function numbers(list) {
  const n = list.map((i) => i.index + 1);
  return n.length <= 12 ? n.join(', ') : `${n.slice(0, 12).join(', ')} and ${n.length - 12} more`;
}

function confirmText(items) {
  const open = items.filter((i) => !i.answered);
  const flagged = items.filter((i) => i.flagged);
  const parts = [`You have answered ${items.length - open.length} of ${items.length} questions.`];
  if (open.length) parts.push(`${open.length} ${open.length === 1 ? 'is' : 'are'} unanswered (question${open.length === 1 ? '' : 's'} ${numbers(open)}).`);
  if (flagged.length) parts.push(`You flagged ${flagged.length} for review (question${flagged.length === 1 ? '' : 's'} ${numbers(flagged)}).`);
  parts.push('After submitting you cannot change your answers.');
  return parts.join(' ');
}

let act = async () => {};
export function setAct(fn) { act = fn; }

export function wireExam() {
  $('btn-prev').addEventListener('click', () => goTo(ui.itemIndex - 1));
  $('btn-next').addEventListener('click', () => goTo(ui.itemIndex + 1));
  $('btn-flag').addEventListener('click', toggleFlag);
  for (const [toggle, list] of FOLDS) {
    $(toggle).addEventListener('click', () => setFold(toggle, list, $(list).hidden));
    $(list).addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && ui.navNarrow) { e.preventDefault(); setFold(toggle, list, false); $(toggle).focus(); }
    });
  }
  $('btn-review').addEventListener('click', async () => { await flush(); ui.reviewing = true; await refresh(); });
  $('btn-back-to-exam').addEventListener('click', async () => { ui.reviewing = false; ui.itemIndex = null; await refresh(); });
  $('btn-submit').addEventListener('click', () => {
    $('confirm-text').textContent = confirmText((ui.state && ui.state.items) || []);
    $('confirm-submit').showModal();
    $('btn-cancel-submit').focus();
  });
  $('btn-cancel-submit').addEventListener('click', () => $('confirm-submit').close('cancel'));
  $('confirm-submit').addEventListener('close', () => {
    if ($('confirm-submit').returnValue !== 'submit' && !$('screen-review').hidden) $('btn-submit').focus();
  });
  $('btn-confirm-submit').addEventListener('click', async () => {
    await flush();
    $('confirm-submit').close('submit');
    await act('submit', { confirm: true });
  });
  $('btn-image-close').addEventListener('click', () => $('image-viewer').close());
  $('image-viewer').addEventListener('close', () => { if (imageOpener) imageOpener.focus(); });
  $('btn-image-larger').addEventListener('click', () => { imageScale = Math.min(6, imageScale + 0.5); drawImage(); });
  $('btn-image-smaller').addEventListener('click', () => { imageScale = Math.max(1, imageScale - 0.5); drawImage(); });
}
