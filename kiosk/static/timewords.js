// Times as people read them: "1 hour 5 minutes", "4 minutes 30 seconds", "10:42".

const unit = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

// A duration in words. Above five minutes it is rounded up to the minute (what is left is never
// overstated by the rounding of a second); below, the seconds are shown too.
export function durationWords(ms) {
  const totalSeconds = Math.max(0, Math.ceil(ms / 1000));
  if (totalSeconds >= 5 * 60) {
    const minutes = Math.ceil(totalSeconds / 60);
    const h = Math.floor(minutes / 60);
    const m = minutes % 60;
    if (!h) return unit(m, 'minute');
    return m ? `${unit(h, 'hour')} ${unit(m, 'minute')}` : unit(h, 'hour');
  }
  const m = Math.floor(totalSeconds / 60);
  const s = totalSeconds % 60;
  if (!m) return unit(s, 'second');
  return s ? `${unit(m, 'minute')} ${unit(s, 'second')}` : unit(m, 'minute');
}

// The same, spoken at coarse steps only (a screen reader must not hear every second).
export function durationWordsCoarse(ms) {
  const minutes = Math.max(0, Math.ceil(ms / 60000));
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (!h) return unit(m, 'minute');
  return m ? `${unit(h, 'hour')} ${unit(m, 'minute')}` : unit(h, 'hour');
}

// The local time of day of an ISO 8601 UTC timestamp, as a clock shows it ("10:42").
export function clockTime(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return '';
  return when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
