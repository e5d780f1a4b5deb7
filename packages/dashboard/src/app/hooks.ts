import { useEffect, useState } from 'preact/hooks';
import type { Live } from './live';

/** Re-renders the caller after each batch the store applies; returns the batch count. */
export function useLive(live: Live): number {
  const [version, setVersion] = useState(live.version);
  useEffect(() => live.subscribe(() => setVersion(live.version)), [live]);
  return version;
}

/** The time, ticking every `ms`: countdowns and ages move without any request. */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}
