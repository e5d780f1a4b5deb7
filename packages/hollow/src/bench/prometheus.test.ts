import { countersBy, histogramQuantile, histogramsBetween, histogramsOf, requestHistograms } from './prometheus';

const scrape = (waitFast: number, waitAll: number, dispatched: number) =>
  [
    `apiserver_flowcontrol_request_wait_duration_seconds_bucket{le="0.01",priority_level="global-default",flow_schema="global-default"} ${waitFast}`,
    `apiserver_flowcontrol_request_wait_duration_seconds_bucket{le="+Inf",priority_level="global-default",flow_schema="global-default"} ${waitAll}`,
    'apiserver_flowcontrol_request_wait_duration_seconds_bucket{le="0.01",priority_level="global-default",flow_schema="catch-all"} 5',
    'apiserver_flowcontrol_request_wait_duration_seconds_bucket{le="+Inf",priority_level="global-default",flow_schema="catch-all"} 5',
    `apiserver_flowcontrol_dispatched_requests_total{priority_level="global-default",flow_schema="global-default"} ${dispatched}`,
    'apiserver_flowcontrol_dispatched_requests_total{priority_level="global-default",flow_schema="catch-all"} 5',
    'apiserver_flowcontrol_dispatched_requests_total{priority_level="node-high",flow_schema="system-node-high"} 7',
    'apiserver_request_duration_seconds_bucket{verb="patch",resource="pods",subresource="status",le="0.1"} 2',
    'apiserver_request_duration_seconds_bucket{verb="patch",resource="pods",subresource="status",le="+Inf"} 3',
  ].join('\n');

describe('reading /metrics', () => {
  it('adds up the series of one key, and tells what happened between two scrapes', () => {
    const byLevel = (l: Record<string, string>) => l.priority_level;
    const name = 'apiserver_flowcontrol_request_wait_duration_seconds';
    const before = histogramsOf(scrape(10, 10, 10), name, byLevel);
    const after = histogramsOf(scrape(10, 110, 110), name, byLevel);
    expect(after.get('global-default')).toEqual({ buckets: [{ le: 0.01, count: 15 }, { le: Infinity, count: 115 }], count: 115 });
    const between = histogramsBetween(before, after).get('global-default')!;
    expect(between.count).toBe(100);
    // All 100 waited past the last finite bound: the quantile is that bound, as Prometheus answers.
    expect(histogramQuantile(between, 0.5)).toBe(0.01);
    expect(countersBy(scrape(0, 0, 110), 'apiserver_flowcontrol_dispatched_requests_total', 'priority_level')).toEqual(new Map([['global-default', 115], ['node-high', 7]]));
    expect(requestHistograms(scrape(0, 0, 0)).get('patch pods/status')).toEqual({ buckets: [{ le: 0.1, count: 2 }, { le: Infinity, count: 3 }], count: 3 });
  });
});
