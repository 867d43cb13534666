// The staff preview of one item: the candidate page's own renderer (renderers.js, shared with the
// kiosk through exam_core) draws the item from the view the server put in a JSON data block. The
// frame is sandboxed (opaque origin): answers given here go nowhere; they only show that the
// controls work as a candidate's would.
import { renderItem } from './renderers.js';

const view = JSON.parse(document.getElementById('item-view').textContent);
const status = document.getElementById('preview-status');
document.getElementById('item-heading').textContent = `Question 1 of 1: ${view.title}`;
renderItem(document.getElementById('item-body'), view, () => {
  status.textContent = 'Answer changed (a preview keeps no answer).';
}, (text) => { status.textContent = text; });
