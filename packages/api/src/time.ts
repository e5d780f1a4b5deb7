// Timestamps as Kubernetes writes them. metav1.Time is RFC 3339 to the second; MicroTime
// (events' eventTime, leases' renewTime) carries six fractional digits.

// The last second formatted: every write stamps one or two times, most in the same second as the write before.
let lastSecond = NaN;
let lastText = '';

/** RFC 3339 to the second, as metav1.Time: 2024-05-01T10:00:00Z. */
export function rfc3339(d: Date): string {
  const second = Math.floor(d.getTime() / 1000);
  if (second === lastSecond) return lastText;
  // toISOString is always YYYY-MM-DDTHH:MM:SS.sssZ for years 0 to 9999.
  const iso = d.toISOString();
  lastText = iso.length === 24 ? `${iso.slice(0, 19)}Z` : iso.replace(/\.\d{3}Z$/, 'Z');
  lastSecond = second;
  return lastText;
}

/**
 * metav1.MicroTime: RFC 3339 with six fractional digits. A Date has milliseconds; a number of
 * milliseconds may carry microseconds in its fraction; without an argument, now to the
 * microsecond (a lease's renewTime).
 */
export function microTime(at: Date | number = performance.timeOrigin + performance.now()): string {
  const ms = typeof at === 'number' ? at : at.getTime();
  const whole = Math.floor(ms);
  const micros = Math.floor((ms - whole) * 1000);
  return new Date(whole).toISOString().replace(/Z$/, `${String(micros).padStart(3, '0')}Z`);
}
