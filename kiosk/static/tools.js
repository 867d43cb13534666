// Candidate tools, each switched on by the scheme (state.tools): calculator (basic or scientific),
// scratch pad, highlighter, option strike-through (in the renderers), line reader and, as an
// approved accommodation, the question read aloud (text-to-speech on the kiosk itself).
//
// Highlights, struck-out options and the scratch pad are journaled on the kiosk (``annotate``),
// so they stay with their question across navigation, a reload and a kiosk restart; opening a
// tool is recorded like an accommodation (``accommodation`` with the tool's name), so the sealed
// result says which tools the candidate used.
import { api } from './api.js';
import { CalcError, evaluate, formatResult } from './calc.js';
import { $, announce, el } from './dom.js';
import { ui } from './state.js';

const TOOL_NAMES = ['calculator', 'scratch_pad', 'highlighter', 'line_reader', 'text_to_speech'];
const record = (name, value) => api.post('accommodation', { name, value }).catch(() => {});

export function toolsOf(state) {
  return state.tools || {};
}

// --- toolbar --------------------------------------------------------------------------------------
export function drawTools(state) {
  const tools = toolsOf(state);
  let any = false;
  for (const name of TOOL_NAMES) {
    const on = name === 'calculator' ? ['basic', 'scientific'].includes(tools.calculator) : tools[name] === true;
    $(`tool-${name}`).hidden = !on;
    any = any || on;
  }
  const breaks = state.accommodations && state.accommodations.granted.rest_breaks > 0;
  $('tools').hidden = !any && !breaks;
  if (ui.calcMode !== tools.calculator) buildKeys(tools.calculator);
  $('tool-calculator').textContent = tools.calculator === 'scientific' ? 'Scientific calculator' : 'Calculator';
}

// Close what belongs to the exam screen when it is not shown (review, submitted, a new candidate).
export function closeTools() {
  closePanel('calculator', 'tool-calculator', 'calculator');
  closePanel('scratch-pad', 'tool-scratch_pad', 'scratch_pad');
  setLineReader(false);
  setHighlighter(false);
  stopSpeech();
}

function openPanel(id, buttonId, name, focusId) {
  const panel = $(id);
  if (!panel.open) panel.show();
  $(buttonId).setAttribute('aria-expanded', 'true');
  $(focusId).focus();
  record(name, true);
}

function closePanel(id, buttonId, name, refocus = false) {
  const panel = $(id);
  if (!panel.open) return;
  panel.close();
  $(buttonId).setAttribute('aria-expanded', 'false');
  record(name, false);
  if (!refocus) return;
  const button = $(buttonId);
  (button.checkVisibility() ? button : $('tools-toggle')).focus(); // the tools list may have folded
}

// --- calculator ---------------------------------------------------------------------------------
const KEY_NAMES = {
  '÷': 'divide', '×': 'times', '−': 'minus', '+': 'plus', '√': 'square root', '%': 'percent', '.': 'decimal point',
  '(': 'open bracket', ')': 'close bracket', '=': 'equals', C: 'clear', '⌫': 'delete last character', '^': 'to the power of',
  'x²': 'squared', 'π': 'pi', e: 'e', '!': 'factorial', sin: 'sine', cos: 'cosine', tan: 'tangent', 'sin⁻¹': 'inverse sine',
  'cos⁻¹': 'inverse cosine', 'tan⁻¹': 'inverse tangent', ln: 'natural logarithm', log: 'logarithm base 10',
};
const INSERTS = { 'x²': '²', 'sin⁻¹': 'asin(', 'cos⁻¹': 'acos(', 'tan⁻¹': 'atan(', sin: 'sin(', cos: 'cos(', tan: 'tan(',
  ln: 'ln(', log: 'log(', '√': '√' };
const BASIC_KEYS = ['C', '⌫', '(', ')', '7', '8', '9', '÷', '4', '5', '6', '×', '1', '2', '3', '−', '0', '.', '%', '+', '√', '='];
const SCIENTIFIC_KEYS = ['sin', 'cos', 'tan', 'C', '⌫', 'sin⁻¹', 'cos⁻¹', 'tan⁻¹', '(', ')', 'ln', 'log', '7', '8', '9',
  'x²', '^', '4', '5', '6', '√', '!', '1', '2', '3', 'π', 'e', '0', '.', '÷', '%', '×', '−', '+', '='];

function buildKeys(mode) {
  ui.calcMode = mode;
  const scientific = mode === 'scientific';
  const keys = $('calc-keys');
  keys.classList.toggle('scientific', scientific);
  $('calc-angle-row').hidden = !scientific;
  keys.replaceChildren(...(scientific ? SCIENTIFIC_KEYS : BASIC_KEYS).map((key) => {
    const button = el('button', { type: 'button', className: `calc-key${key === '=' ? ' equals' : ''}`, text: key,
                                  'aria-label': KEY_NAMES[key] || undefined });
    button.addEventListener('click', () => pressKey(key));
    return button;
  }));
}

function insertAtCaret(input, text) {
  const start = input.selectionStart ?? input.value.length;
  const end = input.selectionEnd ?? input.value.length;
  input.value = input.value.slice(0, start) + text + input.value.slice(end);
  input.setSelectionRange(start + text.length, start + text.length);
}

function pressKey(key) {
  const input = $('calc-input');
  if (key === '=') { calculate(); return; }
  if (key === 'C') { input.value = ''; showResult(''); }
  else if (key === '⌫') {
    const at = input.selectionStart ?? input.value.length;
    if (at > 0) { input.value = input.value.slice(0, at - 1) + input.value.slice(at); input.setSelectionRange(at - 1, at - 1); }
  } else insertAtCaret(input, INSERTS[key] || key);
  input.focus();
}

function showResult(text, bad = false) {
  const out = $('calc-result');
  out.textContent = text;
  out.classList.toggle('bad', bad);
}

function calculate() {
  const input = $('calc-input');
  const angle = (document.querySelector('input[name="calc-angle"]:checked') || {}).value || 'deg';
  try {
    const value = formatResult(evaluate(input.value, { mode: ui.calcMode, angle }));
    showResult(`= ${value}`);
    input.value = value;
    input.setSelectionRange(value.length, value.length);
  } catch (err) {
    if (!(err instanceof CalcError)) throw err;
    showResult(`Not calculated: ${err.message}`, true);
    if (typeof err.position === 'number') input.setSelectionRange(err.position, Math.min(input.value.length, err.position + 1));
  }
  input.focus();
}

// --- scratch pad ----------------------------------------------------------------------------------
let scratchTimer = null;
let scratchSaved = '';

async function openScratch() {
  openPanel('scratch-pad', 'tool-scratch_pad', 'scratch_pad', 'scratch-text');
  try {
    const { text } = await api.scratch();
    if (document.activeElement !== $('scratch-text') || !$('scratch-text').value) $('scratch-text').value = text || '';
    scratchSaved = text || '';
  } catch (err) {
    $('scratch-status').textContent = `Notes not loaded: ${err.message}`;
  }
}

async function saveScratch() {
  clearTimeout(scratchTimer);
  const text = $('scratch-text').value;
  if (text === scratchSaved) return;
  try {
    await api.post('annotate', { kind: 'scratch', value: text });
    scratchSaved = text;
    $('scratch-status').textContent = 'Notes saved';
  } catch (err) {
    $('scratch-status').textContent = `Notes not saved: ${err.message}`;
  }
}

// --- line reader: a band of clear text, the rest shaded; follows the pointer and the focus -------
let readerY = null;

function setLineReader(on) {
  const reader = $('line-reader');
  const button = $('tool-line_reader');
  if (reader.hidden === !on) return;
  reader.hidden = !on;
  button.setAttribute('aria-pressed', String(on));
  if (on) moveReader(readerY ?? window.innerHeight / 3);
  record('line_reader', on);
}

function bandHeight() {
  return 3 * parseFloat(getComputedStyle(document.documentElement).fontSize) * 1.5;
}

function moveReader(y) {
  readerY = Math.max(0, Math.min(window.innerHeight, y));
  $('line-reader').style.setProperty('--lr-top', `${Math.max(0, readerY - bandHeight() / 2)}px`);
  $('line-reader').style.setProperty('--lr-band', `${bandHeight()}px`);
}

// --- highlighter: ranges of the question's own text, kept per question ---------------------------
const UNMARKABLE = '.no-mark, select, option, button, textarea, input, legend';

function markableTexts(root) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => (node.parentElement && !node.parentElement.closest(UNMARKABLE)
      ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT),
  });
  const out = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) out.push(node);
  return out;
}

function merge(ranges) {
  const sorted = ranges.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

// The selection as offsets into the question's markable text.
function selectionRanges(root) {
  const selection = window.getSelection();
  if (!selection || selection.isCollapsed || !selection.rangeCount) return [];
  const range = selection.getRangeAt(0);
  if (!root.contains(range.commonAncestorContainer)) return [];
  const out = [];
  let base = 0;
  for (const node of markableTexts(root)) {
    if (range.intersectsNode(node)) {
      const start = node === range.startContainer ? range.startOffset : 0;
      const end = node === range.endContainer ? range.endOffset : node.length;
      if (end > start) out.push([base + start, base + end]);
    }
    base += node.length;
  }
  return merge(out);
}

function unwrapMarks(root) {
  for (const mark of root.querySelectorAll('mark.hl')) mark.replaceWith(...mark.childNodes);
  root.normalize();
}

// Wrap each range's text in <mark class="hl">, node by node (a range may cross elements).
export function applyHighlights() {
  const root = $('item-body');
  unwrapMarks(root);
  const ranges = (ui.item && ui.item.annotations && ui.item.annotations.highlight) || [];
  if (!ranges.length) return;
  let base = 0;
  for (const node of markableTexts(root)) {
    const length = node.length;
    const pieces = ranges.map(([a, b]) => [Math.max(a, base) - base, Math.min(b, base + length) - base])
      .filter(([a, b]) => b > a).reverse();
    for (const [a, b] of pieces) {
      const middle = node.splitText(a);
      middle.splitText(b - a);
      const mark = el('mark', { className: 'hl' });
      middle.replaceWith(mark);
      mark.append(middle);
    }
    base += length;
  }
}

function offsetsOfMark(root, mark) {
  let base = 0;
  let start = null;
  let end = null;
  for (const node of markableTexts(root)) {
    if (mark.contains(node)) {
      if (start === null) start = base;
      end = base + node.length;
    }
    base += node.length;
  }
  return start === null ? null : [start, end];
}

async function saveHighlights(ranges, message) {
  const item = ui.item;
  if (!item) return;
  item.annotations = { ...(item.annotations || {}), highlight: ranges };
  applyHighlights();
  try {
    await api.post('annotate', { item_id: item.item_id, kind: 'highlight', value: ranges });
    announce(message, true);
  } catch (err) {
    announce(`Highlight not saved: ${err.message}`);
  }
}

function highlightSelection() {
  const root = $('item-body');
  const added = selectionRanges(root);
  if (!added.length) { announce('Select some text of the question first', true); return; }
  const current = (ui.item.annotations && ui.item.annotations.highlight) || [];
  window.getSelection().removeAllRanges();
  saveHighlights(merge([...current, ...added]), 'Text highlighted');
}

function removeHighlight(mark) {
  const root = $('item-body');
  const gone = offsetsOfMark(root, mark);
  if (!gone) return;
  const out = [];
  for (const [a, b] of (ui.item.annotations.highlight || [])) {
    if (b <= gone[0] || a >= gone[1]) out.push([a, b]);
    else {
      if (a < gone[0]) out.push([a, gone[0]]);
      if (b > gone[1]) out.push([gone[1], b]);
    }
  }
  saveHighlights(out, 'Highlight removed');
}

function setHighlighter(on) {
  const button = $('tool-highlighter');
  if ((button.getAttribute('aria-pressed') === 'true') === on) return;
  button.setAttribute('aria-pressed', String(on));
  document.body.classList.toggle('highlighting', on);
  $('highlight-actions').hidden = !on;
  record('highlighter', on);
}

// The strike-through state of the current question, for the choice renderer.
export function strikeContext(item, tools) {
  if (tools.strike_through !== true) return null;
  const struck = new Set((item.annotations && item.annotations.strike) || []);
  return {
    struck,
    toggle: async (id, on) => {
      if (on) struck.add(id); else struck.delete(id);
      item.annotations = { ...(item.annotations || {}), strike: [...struck] };
      try {
        await api.post('annotate', { item_id: item.item_id, kind: 'strike', value: [...struck] });
        announce(on ? 'Option struck out' : 'Strike-out removed', true);
      } catch (err) {
        announce(`Not saved: ${err.message}`);
      }
    },
  };
}

// --- text-to-speech ----------------------------------------------------------------------------
let speechUrl = null;

export function stopSpeech() {
  const audio = $('speech-audio');
  audio.pause();
  audio.removeAttribute('src');
  audio.load();
  if (speechUrl) URL.revokeObjectURL(speechUrl);
  speechUrl = null;
  $('speech').hidden = true;
  $('speech-status').textContent = '';
}

async function readAloud() {
  if (ui.itemIndex === null) return;
  const index = ui.itemIndex;
  $('speech').hidden = false;
  $('speech-status').textContent = 'Preparing the audio…';
  try {
    const url = await api.speech(index, $('speech-rate').value);
    if (ui.itemIndex !== index) { URL.revokeObjectURL(url); return; }
    if (speechUrl) URL.revokeObjectURL(speechUrl);
    speechUrl = url;
    const audio = $('speech-audio');
    audio.src = url;
    $('speech-status').textContent = 'Reading the question aloud';
    await audio.play();
  } catch (err) {
    $('speech-status').textContent = `Cannot read aloud: ${err.message}`;
  }
}

// --- wiring -------------------------------------------------------------------------------------
export function wireTools() {
  $('tool-calculator').addEventListener('click', () => ($('calculator').open
    ? closePanel('calculator', 'tool-calculator', 'calculator', true)
    : openPanel('calculator', 'tool-calculator', 'calculator', 'calc-input')));
  $('btn-calc-close').addEventListener('click', () => closePanel('calculator', 'tool-calculator', 'calculator', true));
  $('calc-input').addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); calculate(); } });
  $('calculator').addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); closePanel('calculator', 'tool-calculator', 'calculator', true); }
  });

  $('tool-scratch_pad').addEventListener('click', () => ($('scratch-pad').open
    ? (saveScratch(), closePanel('scratch-pad', 'tool-scratch_pad', 'scratch_pad', true)) : openScratch()));
  $('btn-scratch-close').addEventListener('click', () => { saveScratch(); closePanel('scratch-pad', 'tool-scratch_pad', 'scratch_pad', true); });
  $('scratch-text').addEventListener('input', () => { clearTimeout(scratchTimer); scratchTimer = setTimeout(saveScratch, 800); });
  $('scratch-text').addEventListener('blur', saveScratch);
  $('scratch-pad').addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); saveScratch(); closePanel('scratch-pad', 'tool-scratch_pad', 'scratch_pad', true); }
  });

  $('tool-line_reader').addEventListener('click', () => setLineReader($('line-reader').hidden));
  document.addEventListener('pointermove', (e) => { if (!$('line-reader').hidden) moveReader(e.clientY); });
  document.addEventListener('focusin', (e) => {
    if ($('line-reader').hidden || !e.target.getBoundingClientRect) return;
    const box = e.target.getBoundingClientRect();
    moveReader(box.top + Math.min(box.height, bandHeight()) / 2);
  });
  document.addEventListener('keydown', (e) => {
    if ($('line-reader').hidden || !e.altKey || !['ArrowUp', 'ArrowDown'].includes(e.key)) return;
    e.preventDefault();
    const line = parseFloat(getComputedStyle(document.documentElement).fontSize) * 1.5;
    moveReader(readerY + (e.key === 'ArrowUp' ? -line : line));
  });

  $('tool-highlighter').addEventListener('click', () => setHighlighter($('tool-highlighter').getAttribute('aria-pressed') !== 'true'));
  $('btn-highlight').addEventListener('click', highlightSelection);
  $('btn-unhighlight').addEventListener('click', () => saveHighlights([], 'Highlights removed from this question'));
  $('item-body').addEventListener('mouseup', () => {
    if (document.body.classList.contains('highlighting') && selectionRanges($('item-body')).length) highlightSelection();
  });
  $('item-body').addEventListener('click', (e) => {
    const mark = e.target.closest && e.target.closest('mark.hl');
    if (mark && document.body.classList.contains('highlighting') && window.getSelection().isCollapsed) removeHighlight(mark);
  });

  $('tool-text_to_speech').addEventListener('click', readAloud); // the kiosk records the use when it makes the audio
  $('btn-speech-stop').addEventListener('click', () => { stopSpeech(); $('tool-text_to_speech').focus(); });
  $('speech-rate').addEventListener('change', () => { if (!$('speech').hidden) readAloud(); });
}
