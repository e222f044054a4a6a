/**
 * The service's metrics in the Prometheus text exposition format (version 0.0.4): counters, gauges and
 * one histogram, served over HTTP at /metrics. Only counts, sizes and durations: nothing of any
 * session's inputs, shares or keys.
 * @module
 */
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';

/** Upper bounds (seconds) of the session-duration histogram. */
export const LATENCY_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] as const;

export class ServiceMetrics {
  running = 0;
  readonly sessions = { done: 0, failed: 0 };
  /** Refused before a session started, by reason (busy, draining, bad request). */
  readonly refused = new Map<string, number>();
  sentBytes = 0;
  receivedBytes = 0;
  /** Finished sessions' durations: counts per bucket (cumulative when written), sum, count. */
  private readonly buckets = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  private sum = 0;
  private count = 0;

  constructor(readonly role: string) {}

  refuse(reason: string): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }

  /** A session ended (done or failed) after `seconds`, having sent and received these payload bytes. */
  ended(ok: boolean, seconds: number, sent: number, received: number): void {
    this.sessions[ok ? 'done' : 'failed']++;
    this.sentBytes += sent;
    this.receivedBytes += received;
    this.sum += seconds;
    this.count++;
    const i = LATENCY_BUCKETS.findIndex((b) => seconds <= b);
    if (i >= 0) this.buckets[i]!++;
  }

  /** The exposition text. */
  text(): string {
    const r = `role="${this.role}"`;
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, rows: string[]) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...rows);
    metric('si_sessions_running', 'gauge', 'Sessions running now.', [`si_sessions_running{${r}} ${this.running}`]);
    metric('si_sessions_total', 'counter', 'Sessions ended, by outcome.', [
      `si_sessions_total{${r},outcome="done"} ${this.sessions.done}`,
      `si_sessions_total{${r},outcome="failed"} ${this.sessions.failed}`,
    ]);
    metric('si_sessions_refused_total', 'counter', 'Connections refused before a session started, by reason.',
      ['busy', 'draining', 'bad_request', 'helper_unreachable', ...[...this.refused.keys()].filter((k) => !['busy', 'draining', 'bad_request', 'helper_unreachable'].includes(k))]
        .map((k) => `si_sessions_refused_total{${r},reason="${k}"} ${this.refused.get(k) ?? 0}`));
    metric('si_sent_bytes_total', 'counter', 'Protocol payload bytes sent by ended sessions.', [`si_sent_bytes_total{${r}} ${this.sentBytes}`]);
    metric('si_received_bytes_total', 'counter', 'Protocol payload bytes received by ended sessions.', [`si_received_bytes_total{${r}} ${this.receivedBytes}`]);
    let cum = 0;
    metric('si_session_duration_seconds', 'histogram', 'Duration of ended sessions, from the client connecting to the end.', [
      ...LATENCY_BUCKETS.map((b, i) => `si_session_duration_seconds_bucket{${r},le="${b}"} ${(cum += this.buckets[i]!)}`),
      `si_session_duration_seconds_bucket{${r},le="+Inf"} ${this.count}`,
      `si_session_duration_seconds_sum{${r}} ${this.sum}`,
      `si_session_duration_seconds_count{${r}} ${this.count}`,
    ]);
    const mem = process.memoryUsage();
    metric('process_resident_memory_bytes', 'gauge', 'Resident memory of the process.', [`process_resident_memory_bytes{${r}} ${mem.rss}`]);
    return out.join('\n') + '\n';
  }

  /** Serves GET /metrics on host:port (port 0: any free port); resolves with the server. */
  static async serve(metrics: ServiceMetrics, host: string, port: number): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(metrics.text());
    });
    server.listen(port, host);
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e))]);
    return server;
  }
}
