// The page's own state, shared by its modules (the kiosk's state comes from /api/state).
export const ui = {
  state: null,          // the last polled state
  attempt: undefined,   // attempt_key of the candidate the page is showing
  screen: null,
  reviewing: false,
  monitoringRead: false, // the monitoring notice was read (the agreement step shows next)
  itemIndex: null,
  item: null,
  timerBase: null,      // {remaining, at, running}
  allowedMs: null,
  lastWarning: null,
  lastPaused: null,
  messagesSeen: new Set(),
  messagesDismissed: new Set(),
  pending: 0,
  navEpoch: 0,
  saveChain: Promise.resolve(),
};
