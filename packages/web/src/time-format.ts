/** "14:03" for today, "12 Mar 14:03" for another day, in the reader's locale and zone. */
export function shortTime(ms: number, now = Date.now()): string {
  const at = new Date(ms);
  const time = at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (at.toDateString() === new Date(now).toDateString()) return time;
  return `${at.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })} ${time}`;
}

/** The full date and time, for a tooltip. */
export function fullTime(ms: number): string {
  return new Date(ms).toLocaleString();
}
