// Timestamps as Kubernetes writes them. metav1.Time is RFC 3339 to the second; MicroTime
// (events' eventTime, leases' renewTime) carries six fractional digits.

/** RFC 3339 to the second, as metav1.Time: 2024-05-01T10:00:00Z. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** metav1.MicroTime: RFC 3339 with six fractional digits (our clock has milliseconds). */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
