#!/usr/bin/env node
/**
 * The `si` command.
 *   si infer   all three parties on this machine (separate processes, TLS under a throwaway CA)
 *   si party   one party of a deployment (its own host), one session
 *   si serve   the server or the helper as a service for many client sessions (serve.ts)
 *   si client  the client of a running service
 *   si certs   a deployment CA and the three party certificates
 *   si models  the architectures and their ReLU counts
 *   si layers  the ReLU layers of an ONNX file or an architecture (what a patch spec names)
 *   si check   the sign-window report of a network on calibration images (window-check.ts)
 *   si data, train, accuracy, distortion, knapsack, finetune, eval   the method on Fashion-MNIST (pipeline-cli.ts)
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { importOnnx } from '@si/models';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Role } from '@si/sharing';
import { writeDeploymentCerts, readCredentials, readDeployment } from './certs.ts';
import { graphOf, loadSpec, MODELS } from './models.ts';
import { runParty, dreluCount, type ImageResult, type PartyReport } from './party.ts';
import { Service } from './serve.ts';
import { expandImages, looksLikeIdx, type InputSource } from './input.ts';
import { runLocal, type SessionReport } from './orchestrate.ts';
import { plaintextPredictions } from './check.ts';
import { formatWindowCheck, layersAbove, windowCheck, type WindowCheck } from './window-check.ts';
import { ensureFashion, fashionFiles } from './fashion.ts';
import { taskData, taskOfGraph } from './tasks.ts';
import ndarray from 'ndarray';
import { fmtBytes, fmtSeconds, Progress } from './progress.ts';
import { addPipelineCommands } from './pipeline-cli.ts';

// `si layers … | head` closes stdout early: end quietly rather than with an EPIPE trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(0);
});

const int = (what: string, min = 0) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${what} must be an integer >= ${min}`);
  return n;
};

function rate(v: string): number {
  const n = Number(v);
  if (!(v.trim() !== '' && n >= 0 && n <= 1)) throw new InvalidArgumentError(`expected a rate in [0, 1], got "${v}"`);
  return n;
}

function address(v: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(v);
  if (!m || !m[1] || Number(m[2]) > 65535) throw new InvalidArgumentError(`expected HOST:PORT, got "${v}"`);
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
}

interface SessionOpts {
  model: string;
  spec?: string;
  mode: string;
  reveal: string;
  fracBits: number;
  batch: number;
  weights?: string;
  random?: number;
  seed?: string;
  images?: string;
  image: string[];
  manifest?: string;
  outPng?: string;
  labels?: string;
  start?: number;
  count?: number;
  timeout?: number;
  preprocess: boolean;
}

function sessionOptions(c: Command): Command {
  return c
    .requiredOption('--model <name>', `architecture (${Object.keys(MODELS).join(', ')})`)
    .option('--spec <spec>', 'patch spec: relu, file:PATH, knapsack:FRACTION[:SEED] (synthetic distortions) or paperlike:FRACTION[:SEED] (synthetic, calibrated to the paper\'s identity fraction)', 'relu')
    .option('--mode <mode>', 'comparison: full, small16, paper16, twohop16 (one round fewer per ReLU layer, more bytes), small:D:K, paper:D:K or twohop:D:K', 'small16')
    .option('--reveal <what>', 'what the client learns: label (the top-1 class only), topk:K (the K best classes) or logits', 'label')
    .option('--frac-bits <f>', 'fractional bits of the fixed-point encoding', int('--frac-bits', 4), 12)
    .option('--batch <n>', 'images per batch', int('--batch', 1), 8)
    .option('--weights <source>', 'server: file:PATH (safetensors) or synthetic:SEED')
    .option('--image <file>', 'client: a PNG or JPEG image (repeat for more)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--images <path>', 'client: a directory or glob of PNG/JPEG images, or an IDX image file (optionally gzipped)')
    .option('--manifest <file>', 'client: the model manifest (preprocessing, class names); default: the one shipped with the model')
    .option('--out-png <dir>', 'client, segmentation: write each label map and an overlay on the image (PNG)')
    .option('--labels <path>', 'client: IDX label file, to report accuracy')
    .option('--start <i>', 'client: first image', int('--start'), 0)
    .option('--count <n>', 'client: number of images (default: all from --start)', int('--count', 1))
    .option('--random <n>', 'client: n seeded random images instead of a file', int('--random', 1))
    .option('--seed <s>', 'client: seed of the random images')
    .option('--timeout <s>', 'seconds to wait for a peer message', int('--timeout', 1), 120)
    .option('--no-preprocess', 'fold the input-independent work of each batch into the online phase');
}

function inputOf(o: SessionOpts): InputSource | undefined {
  const given = [o.random !== undefined, !!o.images, o.image.length > 0].filter(Boolean).length;
  if (given > 1) throw new InvalidArgumentError('give one of --random, --images or --image');
  if (o.random !== undefined) return { kind: 'random', count: o.random, ...(o.seed ? { seed: o.seed } : {}) };
  if (o.image.length > 0) return { kind: 'files', paths: o.image };
  if (o.images && looksLikeIdx(o.images)) return { kind: 'idx', images: o.images, ...(o.labels ? { labels: o.labels } : {}), start: o.start ?? 0, ...(o.count ? { count: o.count } : {}) };
  if (o.images) return { kind: 'files', paths: expandImages(o.images) };
  return undefined;
}

function fail(e: unknown, json: boolean): void {
  const message = (e as Error).message ?? String(e);
  if (json) console.log(JSON.stringify({ event: 'error', message }));
  console.error(`si: ${message}`);
  // Let the abort notices to the peers flush before the process ends (at most two seconds).
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 2000).unref();
}

const program = new Command('si')
  .description('Secure three-party CNN inference with patch ReLUs (client, server, helper)')
  .showHelpAfterError();

sessionOptions(program.command('infer'))
  .description('run the client, server and helper as three local processes over mutually authenticated TLS')
  .option('--check', 'also run the plaintext float32 model and report top-1 agreement')
  .option('--layers', 'print traffic, rounds and time per layer')
  .option('--threads <n>', 'worker threads per party', int('--threads', 1))
  .option('--json', 'print the report as JSON on stdout')
  .option('--out <file>', 'write the report (JSON) to a file')
  .option('--window-images <n>', 'images of the input to run the sign-window check on first (0: none)', int('--window-images'), 8)
  .option('--max-sign-errors <rate>', 'warn when a layer\'s predicted rate of wrapped signs (values beyond the window\'s range) in the window check is above this', rate, 1e-3)
  .option('--strict', 'refuse to run when a layer of the window check is above --max-sign-errors')
  .action(async (o: SessionOpts & { check?: boolean; layers?: boolean; threads?: number; json?: boolean; out?: string; windowImages: number; maxSignErrors: number; strict?: boolean }) => {
    try {
      const input = inputOf(o);
      if (!input) throw new InvalidArgumentError('the client needs input: --image FILE, --images DIR|GLOB|IDX [--labels IDX] or --random N');
      const weights = o.weights ?? 'synthetic:0';
      const graph = graphOf(o.model);
      loadSpec(graph, o.spec); // fail here, not in three processes
      const window = await preflightWindows(o, weights, input);
      if (!o.json) console.error(`si infer: ${o.model}, spec ${o.spec}, mode ${o.mode}, weights ${weights}: client, server and helper as local processes over TLS 1.3 (mutual authentication)`);
      let bar: Progress | undefined, perLayer: { done: number; t0: number; bar: Progress } | undefined;
      const report = await runLocal({
        model: o.model, weights, spec: o.spec, mode: o.mode, reveal: o.reveal, fracBits: o.fracBits, batch: o.batch, input, timeoutSeconds: o.timeout, threads: o.threads, preprocess: o.preprocess,
        ...(o.manifest ? { manifest: o.manifest } : {}), ...(o.outPng ? { outPng: o.outPng } : {}),
        onEvent: (role, e) => {
          if (role !== 'client') return;
          // A few long batches (a segmentation network): progress per layer; otherwise per batch.
          if (e.event === 'connected') {
            const batches = e.batches as number;
            perLayer = batches <= 2 ? { done: 0, t0: performance.now(), bar: new Progress('secure inference', batches * graph.nodes.length, ['layer', 'layers']) } : undefined;
            if (!perLayer) bar = new Progress('secure inference', batches);
          }
          if (e.event === 'layer' && perLayer) {
            if (perLayer.done === 0) perLayer.t0 = performance.now(); // after the weight setup
            perLayer.bar.update(++perLayer.done, (performance.now() - perLayer.t0) / 1000);
          }
          if (e.event === 'batch') bar?.update(e.done as number, e.seconds as number);
        },
      });
      perLayer?.bar.update(perLayer.bar.total, (performance.now() - perLayer.t0) / 1000);
      const check = o.check ? plaintextPredictions({ model: o.model, weights, spec: o.spec, input, batch: o.batch, ...(o.manifest ? { manifest: o.manifest } : {}) }) : undefined;
      const plaintext = check && { labels: check, agree: agreeing(check, report.labels, report.labelShape), ...(report.labelShape.length > 1 ? { pixelAgreement: pixelAgreement(check, report.labels) } : {}) };
      const full = { ...report, ...(window ? { window } : {}), ...(plaintext ? { plaintext } : {}) };
      if (o.out) writeFileSync(o.out, JSON.stringify(full, null, 1));
      if (o.json) console.log(JSON.stringify(full));
      else printSession(full, !!o.layers);
    } catch (e) {
      fail(e, !!o.json);
    }
  });

sessionOptions(program.command('party'))
  .description('run one party of a deployment')
  .addOption(new Option('--role <role>', 'this party').choices(['client', 'server', 'helper']).makeOptionMandatory())
  .option('--config <file>', 'deployment file: where the server and helper listen and the certificate directory (see the README)')
  .option('--tls <dir>', 'directory with ca.pem, ROLE.pem and ROLE.key (see si certs); overrides the config')
  .option('--listen <host:port>', 'server and helper: address to listen on (default: the config\'s address for the role)', address)
  .option('--server <host:port>', 'client: where the server listens', address)
  .option('--helper <host:port>', 'client and server: where the helper listens', address)
  .option('--connect-timeout <s>', 'seconds to wait for the peers to connect', int('--connect-timeout', 1), 60)
  .option('--json', 'print events and the report as JSON lines on stdout')
  .option('--trace', 'with --json: an event as each layer starts')
  .option('--out <file>', 'write the report (JSON) to a file')
  .action(async (o: SessionOpts & { trace?: boolean; role: Role; config?: string; tls?: string; listen?: { host: string; port: number }; server?: { host: string; port: number }; helper?: { host: string; port: number }; connectTimeout: number; json?: boolean; out?: string }) => {
    const emit = (e: Record<string, unknown>) => o.json && console.log(JSON.stringify(e));
    try {
      const need = (v: { host: string; port: number } | undefined, flag: string) => {
        if (!v) throw new InvalidArgumentError(`the ${o.role} needs ${flag} HOST:PORT`);
        return v;
      };
      const d = o.config ? readDeployment(o.config) : undefined;
      const listen = o.role === 'client' ? undefined : need(o.listen ?? (d && { host: d.bind ?? d[o.role].host, port: d[o.role].port }), '--listen');
      const helper = o.role === 'helper' ? listen! : need(o.helper ?? d?.helper, '--helper');
      const server = o.role === 'server' ? listen! : o.role === 'client' ? need(o.server ?? d?.server, '--server') : listen!;
      const tlsDir = o.tls ?? d?.certs;
      if (!tlsDir) throw new InvalidArgumentError(`the ${o.role} needs certificates: --tls DIR or "certs" in --config`);
      let bar: Progress | undefined;
      const report = await runParty({
        role: o.role, deployment: { server, helper }, tls: readCredentials(tlsDir, o.role), listen,
        model: o.model, spec: o.spec, mode: o.mode, reveal: o.reveal, fracBits: o.fracBits, batch: o.batch, weights: o.weights, input: inputOf(o), preprocess: o.preprocess,
        ...(o.manifest ? { manifest: o.manifest } : {}), ...(o.outPng ? { outPng: o.outPng } : {}),
        timeoutSeconds: o.timeout, connectTimeoutSeconds: o.connectTimeout,
      }, {
        onListening: (port) => (emit({ event: 'listening', role: o.role, port }), o.json || console.error(`${o.role}: listening on ${listen!.host}:${port}`)),
        onConnected: (i) => {
          emit({ event: 'connected', ...i });
          if (!o.json) {
            console.error(`${o.role}: session agreed, ${i.images} image${i.images === 1 ? "" : "s"} in ${i.batches} batch${i.batches === 1 ? "" : "es"}`);
            bar = new Progress(o.role, i.batches);
          }
        },
        onSetup: (seconds) => emit({ event: 'setup', seconds }),
        onBatch: (done, total, seconds) => (emit({ event: 'batch', done, total, seconds }), bar?.update(done, seconds)),
        ...(o.trace ? { onLayer: (batch: number, node: string) => emit({ event: 'layer', batch, node }) } : {}),
      });
      if (o.out) writeFileSync(o.out, JSON.stringify(report, null, 1));
      if (o.json) emit({ event: 'report', ...report });
      else printParty(report);
    } catch (e) {
      fail(e, !!o.json);
    }
  });

sessionOptions(program.command('serve'))
  .description('run the server or the helper as a long-running service for many client sessions')
  .addOption(new Option('--role <role>', 'this party').choices(['server', 'helper']).makeOptionMandatory())
  .option('--config <file>', 'deployment file: where the server and helper listen and the certificate directory')
  .option('--tls <dir>', 'directory with ca.pem, ROLE.pem and ROLE.key (see si certs); overrides the config')
  .option('--listen <host:port>', 'address to listen on (default: the config\'s address for the role)', address)
  .option('--helper <host:port>', 'the server: where the helper service listens', address)
  .option('--max-sessions <n>', 'sessions at once; beyond, clients are told to retry (default: the number of cores)', int('--max-sessions', 1))
  .option('--public-clients', 'accept clients without certificates (the service still authenticates itself to them; server-helper stays mutual TLS)')
  .option('--metrics <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics', address)
  .option('--web <host:port>', 'take browser clients over wss:// here (needs --public-clients); the server also serves the page', address)
  .option('--web-helper <url>', 'the server with --web: the helper\'s wss:// address, for the page')
  .option('--connect-timeout <s>', 'seconds for a client to finish joining a session', int('--connect-timeout', 1), 30)
  .action(async (o: SessionOpts & { role: 'server' | 'helper'; config?: string; tls?: string; listen?: { host: string; port: number }; helper?: { host: string; port: number }; maxSessions?: number; publicClients?: boolean; metrics?: { host: string; port: number }; web?: { host: string; port: number }; webHelper?: string; connectTimeout: number }) => {
    try {
      if (inputOf(o)) throw new InvalidArgumentError('a service holds no images: the client brings them (si client)');
      const d = o.config ? readDeployment(o.config) : undefined;
      const listen = o.listen ?? (d && { host: d.bind ?? d[o.role].host, port: d[o.role].port });
      if (!listen) throw new InvalidArgumentError(`the ${o.role} needs --listen HOST:PORT (or --config)`);
      const helper = o.role === 'server' ? o.helper ?? d?.helper : undefined;
      if (o.role === 'server' && !helper) throw new InvalidArgumentError('the server needs --helper HOST:PORT (or --config)');
      if (o.role === 'helper' && o.helper) throw new InvalidArgumentError('the helper takes no --helper: the server connects to it');
      const tlsDir = o.tls ?? d?.certs;
      if (!tlsDir) throw new InvalidArgumentError(`the ${o.role} needs certificates: --tls DIR or "certs" in --config`);
      const service = await Service.start({
        role: o.role, listen, ...(helper ? { helper } : {}), tls: readCredentials(tlsDir, o.role),
        model: o.model, spec: o.spec, mode: o.mode, reveal: o.reveal, fracBits: o.fracBits, batch: o.batch, weights: o.weights, preprocess: o.preprocess,
        timeoutSeconds: o.timeout, connectTimeoutSeconds: o.connectTimeout, publicClients: !!o.publicClients,
        ...(o.maxSessions !== undefined ? { maxSessions: o.maxSessions } : {}), ...(o.metrics ? { metrics: o.metrics } : {}),
        ...(o.web ? { web: { ...o.web, ...(o.webHelper ? { helperUrl: o.webHelper } : {}) } } : {}),
      });
      // SIGTERM (or Ctrl-C) drains: running sessions finish, new ones are refused; a second signal stops at once.
      let stopping = false;
      const stop = () => {
        if (stopping) process.exit(1);
        stopping = true;
        void service.drain().then(() => process.exit(0));
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    } catch (e) {
      fail(e, true);
    }
  });

sessionOptions(program.command('client'))
  .description('classify images with a running service (si serve): the client party')
  .requiredOption('--server <host:port>', 'where the server service listens', address)
  .requiredOption('--helper <host:port>', 'where the helper service listens', address)
  .option('--tls <dir>', 'mutual TLS: directory with ca.pem, client.pem and client.key (see si certs)')
  .option('--ca <file>', 'a public client (no certificate): trust only this deployment CA for the server and helper')
  .option('--web-pki', 'a public client (no certificate): trust the system\'s roots and check host names (a web PKI certificate)')
  .option('--connect-timeout <s>', 'seconds to wait for the service', int('--connect-timeout', 1), 30)
  .option('--json', 'print events and the report as JSON lines on stdout')
  .option('--trace', 'with --json: an event as each layer starts')
  .option('--out <file>', 'write the report (JSON) to a file')
  .action(async (o: SessionOpts & { server: { host: string; port: number }; helper: { host: string; port: number }; tls?: string; ca?: string; webPki?: boolean; connectTimeout: number; json?: boolean; trace?: boolean; out?: string }) => {
    const emit = (e: Record<string, unknown>) => o.json && console.log(JSON.stringify(e));
    try {
      const input = inputOf(o);
      if (!input) throw new InvalidArgumentError('the client needs input: --image FILE, --images DIR|GLOB|IDX [--labels IDX] or --random N');
      if ([o.tls, o.ca, o.webPki].filter(Boolean).length !== 1) throw new InvalidArgumentError('give one of --tls DIR (mutual TLS), --ca FILE or --web-pki (a public client)');
      const tls = o.tls ? readCredentials(o.tls, 'client') : { anonymous: true as const, ...(o.ca ? { ca: readFileSync(o.ca, 'utf8') } : {}) };
      let bar: Progress | undefined;
      const report = await runParty({
        role: 'client', service: true, deployment: { server: o.server, helper: o.helper }, tls,
        model: o.model, spec: o.spec, mode: o.mode, reveal: o.reveal, fracBits: o.fracBits, batch: o.batch, input, preprocess: o.preprocess,
        ...(o.manifest ? { manifest: o.manifest } : {}), ...(o.outPng ? { outPng: o.outPng } : {}),
        timeoutSeconds: o.timeout, connectTimeoutSeconds: o.connectTimeout,
      }, {
        onConnected: (i) => {
          emit({ event: 'connected', ...i });
          if (!o.json) bar = new Progress('client', i.batches);
        },
        onSetup: (seconds) => emit({ event: 'setup', seconds }),
        onBatch: (done, total, seconds) => (emit({ event: 'batch', done, total, seconds }), bar?.update(done, seconds)),
        ...(o.trace ? { onLayer: (batch: number, node: string) => emit({ event: 'layer', batch, node }) } : {}),
      });
      if (o.out) writeFileSync(o.out, JSON.stringify(report, null, 1));
      if (o.json) emit({ event: 'report', ...report });
      else printClient(report);
    } catch (e) {
      fail(e, !!o.json);
    }
  });

program.command('certs')
  .description('create a deployment CA and the client, server and helper certificates (keep ca.key offline)')
  .option('--out <dir>', 'output directory', 'certs')
  .option('--hosts-client <list>', 'comma-separated host names/addresses of the client')
  .option('--hosts-server <list>', 'comma-separated host names/addresses of the server')
  .option('--hosts-helper <list>', 'comma-separated host names/addresses of the helper')
  .option('--days <n>', 'validity of the party certificates in days', int('--days', 1), 730)
  .option('--ca-days <n>', 'validity of the CA in days (at least --days)', int('--ca-days', 1), 3650)
  .action((o: { out: string; hostsClient?: string; hostsServer?: string; hostsHelper?: string; days: number; caDays: number }) => {
    try {
      const split = (s?: string) => s?.split(',').map((h) => h.trim()).filter(Boolean);
      const hosts: Partial<Record<Role, string[]>> = {};
      for (const [role, v] of [['client', o.hostsClient], ['server', o.hostsServer], ['helper', o.hostsHelper]] as const) if (split(v)) hosts[role] = split(v)!;
      const files = writeDeploymentCerts(o.out, { hosts, days: o.days, caDays: o.caDays });
      for (const f of files) console.log(f);
      console.log('copy ROLE.pem, ROLE.key and ca.pem to each party; keep ca.key offline');
    } catch (e) {
      fail(e, false);
    }
  });

program.command('models')
  .description('list the architectures with their ReLU layers and counts')
  .action(() => {
    for (const [name, m] of Object.entries(MODELS)) {
      const g = graphOf(name);
      const { relus } = dreluCount(g, null);
      console.log(`${name.padEnd(24)} ${String(g.reluLayers().length).padStart(3)} ReLU layers ${String(relus).padStart(11)} ReLUs  input ${g.inputShape.join('x')}  ${m.note}`);
    }
  });

program.command('layers')
  .description('list the ReLU layers of an ONNX file or a named architecture (name, op, channels, H x W, ReLUs, DReLUs): what a patch spec names')
  .argument('<model>', 'FILE.onnx, or an architecture from si models')
  .option('--json', 'print the layers as JSON')
  .action((what: string, o: { json?: boolean }) => {
    try {
      const graph = MODELS[what.split('@')[0]!] ? graphOf(what) : importOnnx(readOnnx(what), { name: basename(what).replace(/\.onnx$/, '') }).graph;
      const layers = graph.reluLayers().map((l) => ({
        name: l.name, op: l.op, channels: l.channels, H: l.H, W: l.W, relus: l.relus, drelus: l.clipped ? 2 * l.relus : l.relus,
      }));
      if (o.json) return console.log(JSON.stringify({ model: graph.name, input: graph.inputShape, layers }));
      const w = Math.max(5, ...layers.map((l) => l.name.length));
      console.log(`${'layer'.padEnd(w)}  ${'op'.padEnd(5)} ${'channels'.padStart(8)} ${'H x W'.padStart(9)} ${'ReLUs'.padStart(11)} ${'DReLUs'.padStart(11)}`);
      for (const l of layers) console.log(`${l.name.padEnd(w)}  ${l.op.padEnd(5)} ${String(l.channels).padStart(8)} ${`${l.H} x ${l.W}`.padStart(9)} ${l.relus.toLocaleString('en-US').padStart(11)} ${l.drelus.toLocaleString('en-US').padStart(11)}`);
      const sum = (k: 'relus' | 'drelus') => layers.reduce((s, l) => s + l[k], 0).toLocaleString('en-US');
      console.log(`${layers.length} ReLU layers, ${sum('relus')} ReLUs, ${sum('drelus')} DReLUs with every ReLU kept (a ReLU6 or clip layer also compares each pixel with its upper bound)`);
    } catch (e) {
      fail(e, !!o.json);
    }
  });

program.command('check')
  .description('run the fixed-point model on calibration images and report, per comparing layer, the values outside the mode\'s exact sign window and the predicted sign-error rate')
  .requiredOption('--model <name>', `architecture (${Object.keys(MODELS).join(', ')})`)
  .requiredOption('--weights <source>', 'file:PATH (safetensors) or synthetic:SEED')
  .option('--spec <spec>', 'patch spec: relu, file:PATH, knapsack:FRACTION[:SEED] (synthetic distortions) or paperlike:FRACTION[:SEED] (synthetic, calibrated to the paper\'s identity fraction)', 'relu')
  .option('--mode <mode>', 'comparison: full, small16, paper16, twohop16 (one round fewer per ReLU layer, more bytes), small:D:K, paper:D:K or twohop:D:K', 'small16')
  .option('--frac-bits <f>', 'fractional bits of the fixed-point encoding', int('--frac-bits', 4), 12)
  .option('--images <path>', 'calibration images: a directory or glob of PNG/JPEG, or an IDX file (default: the Fashion-MNIST test split)')
  .option('--image <file>', 'a calibration image (repeat for more)', (v: string, acc: string[]) => [...acc, v], [] as string[])
  .option('--manifest <file>', 'the model manifest (preprocessing); default: the one shipped with the model')
  .option('--data <dir>', 'Fashion-MNIST directory (for the default images)')
  .option('--start <i>', 'first image of an IDX file', int('--start'), 0)
  .option('--limit <n>', 'number of images (IDX; for files, the first N)', int('--limit', 1), 256)
  .option('--batch <n>', 'images per batch', int('--batch', 1), 8)
  .option('--max-sign-errors <rate>', 'exit with status 2 when a layer\'s predicted rate of wrapped signs (values beyond the range) is above this', rate)
  .option('--json', 'print the report as JSON')
  .action(async (o: { model: string; weights: string; spec: string; mode: string; fracBits: number; images?: string; image: string[]; manifest?: string; data?: string; start: number; limit: number; batch: number; maxSignErrors?: number; json?: boolean }) => {
    try {
      const graph = graphOf(o.model);
      let input: InputSource;
      if (o.image.length > 0 && o.images) throw new InvalidArgumentError('give one of --images or --image');
      if (o.image.length > 0) input = { kind: 'files', paths: o.image.slice(0, o.limit) };
      else if (o.images && looksLikeIdx(o.images)) input = { kind: 'idx', images: o.images, start: o.start, count: o.limit };
      else if (o.images) input = { kind: 'files', paths: expandImages(o.images).slice(0, o.limit) };
      else if (graph.inputShape.join('x') === '1x64x64' && taskOfGraph(graph) === 'segmentation') {
        // The Fashion-MNIST scenes network: its test scenes.
        const scenes = taskData('segmentation', 'test', { dir: ensureFashion(o.data), start: o.start, count: o.limit });
        input = { kind: 'tensor', x: ndarray(scenes.x, [scenes.N, 1, 64, 64]) };
      } else {
        if (graph.inputShape.join('x') !== '1x28x28') throw new InvalidArgumentError(`model "${o.model}" takes ${graph.inputShape.join('x')} inputs: give calibration images with --images DIR|GLOB|IDX (the default is the Fashion-MNIST test split, or its scenes)`);
        input = { kind: 'idx', images: fashionFiles('test', ensureFashion(o.data)).images, start: o.start, count: o.limit };
      }
      const bar = o.json ? undefined : new Progress('window check', Math.ceil(o.limit / o.batch));
      const t0 = performance.now();
      const c = await windowCheck({
        model: o.model, weights: o.weights, spec: o.spec, mode: o.mode, fracBits: o.fracBits, input, batch: o.batch, ...(o.manifest ? { manifest: o.manifest } : {}),
        onBatch: (done) => bar?.update(Math.ceil(done / o.batch), (performance.now() - t0) / 1000),
      });
      if (o.json) console.log(JSON.stringify(c));
      else console.log(formatWindowCheck(c));
      if (o.maxSignErrors !== undefined && c.max_wrap_error_rate > o.maxSignErrors) {
        console.error(`si check: ${layersAbove(c, o.maxSignErrors).map((l) => l.name).join(', ')} above --max-sign-errors ${o.maxSignErrors}`);
        process.exitCode = 2;
      }
    } catch (e) {
      fail(e, !!o.json);
    }
  });

/**
 * si infer's window check: the fixed-point twin on the first images of the input (this machine holds the
 * weights and the images), a warning per layer whose predicted sign-error rate is above the threshold,
 * and with --strict a refusal.
 */
async function preflightWindows(o: SessionOpts & { windowImages: number; maxSignErrors: number; strict?: boolean }, weights: string, input: InputSource): Promise<Pick<WindowCheck, 'images' | 'max_out_of_window' | 'max_sign_error_rate' | 'max_wrap_error_rate'> & { above: string[] } | undefined> {
  if (o.windowImages === 0) return undefined;
  const few: InputSource = input.kind === 'random' ? { ...input, count: Math.min(input.count, o.windowImages) }
    : input.kind === 'files' ? { ...input, paths: input.paths.slice(0, o.windowImages) }
    : input.kind === 'idx' ? { ...input, count: Math.min(input.count ?? o.windowImages, o.windowImages) } : input;
  let c: WindowCheck;
  try {
    c = await windowCheck({ model: o.model, weights, spec: o.spec, mode: o.mode, fracBits: o.fracBits, input: few, batch: o.batch, ...(o.manifest ? { manifest: o.manifest } : {}) });
  } catch {
    // Weights or images that cannot be loaded: the party that holds them reports it, named, as it starts.
    return undefined;
  }
  const above = layersAbove(c, o.maxSignErrors);
  for (const l of above)
    console.error(`si infer: warning: layer ${l.name} (${l.kind}) has a predicted rate of wrapped signs of ${(100 * l.wrap_error_rate).toFixed(3)}% in mode ${o.mode} on ${c.images} image${c.images === 1 ? '' : 's'} (${(100 * l.beyond_range).toFixed(3)}% of its values beyond the window's range); see si check, or use a wider mode`);
  if (above.length && o.strict) throw new Error(`--strict: ${above.length} layer${above.length === 1 ? '' : 's'} above --max-sign-errors ${o.maxSignErrors} (${above.map((l) => l.name).join(', ')}); nothing was run`);
  return { images: c.images, max_out_of_window: c.max_out_of_window, max_sign_error_rate: c.max_sign_error_rate, max_wrap_error_rate: c.max_wrap_error_rate, above: above.map((l) => l.name) };
}

function readOnnx(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new InvalidArgumentError(`cannot read ${path}: ${(e as Error).message} (give an ONNX file or one of: ${Object.keys(MODELS).join(', ')})`);
  }
}

addPipelineCommands(program);

/** Images whose every label equals the reference's (one label per image, or a label map per image). */
function agreeing(want: readonly number[], got: readonly number[], shape: readonly number[]): number {
  const per = got.length / shape[0]!;
  let ok = 0;
  for (let i = 0; i < shape[0]!; i++) if (got.slice(i * per, (i + 1) * per).every((v, j) => v === want[i * per + j])) ok++;
  return ok;
}

/** The fraction of pixels whose labels are equal (segmentation). */
function pixelAgreement(want: readonly number[], got: readonly number[]): number {
  let ok = 0;
  for (let i = 0; i < got.length; i++) if (got[i] === want[i]) ok++;
  return got.length ? ok / got.length : 1;
}

const REVEALED: Record<string, string> = { label: 'the top-1 class only', logits: 'the logits' };
const revealed = (r: { reveal: string; labelShape?: number[] }) =>
  `${r.reveal} (the client learns ${REVEALED[r.reveal] ?? `the ${r.reveal.slice(5)} best classes`}${r.labelShape && r.labelShape.length > 1 ? ', per pixel' : ''})`;

/** Accuracy of the revealed top-1 against the true labels (classifiers). */
function accuracyLine(labels: readonly number[], truth: readonly number[]): string {
  const ok = labels.filter((p, i) => p === truth[i]).length;
  return `${ok}/${truth.length} = ${((100 * ok) / truth.length).toFixed(2)}%`;
}

function printSession(r: SessionReport & { plaintext?: { agree: number; pixelAgreement?: number } }, layers: boolean): void {
  const line = (k: string, v: string) => console.log(`${k.padEnd(11)} ${v}`);
  line('images', `${r.images} in ${r.batches} batch${r.batches === 1 ? '' : 'es'} of up to ${r.batch}`);
  line('DReLUs', `${r.drelus.toLocaleString('en-US')} per image, ${((100 * r.drelus) / r.relus).toFixed(2)}% of ${r.relus.toLocaleString('en-US')} ReLUs`);
  line('setup', `${fmtBytes(r.setup.bytes)}, ${r.setup.rounds} rounds, ${fmtSeconds(r.setup.seconds)}`);
  if (r.preprocess.bytes) line('preprocess', `${fmtBytes(r.preprocess.bytes)} (${fmtBytes(Math.round(r.preprocess.bytes / r.images))}/image), ${r.preprocess.rounds} round${r.preprocess.rounds === 1 ? '' : 's'} per batch, ${fmtSeconds(r.preprocess.seconds)} (input-independent)`);
  line('online', `${fmtBytes(r.online.bytes)} (${fmtBytes(Math.round(r.online.bytes / r.images))}/image), ${r.online.rounds} rounds per batch, ${fmtSeconds(r.online.seconds)} (${fmtSeconds(r.online.seconds / r.images)}/image)`);
  line('revealed', revealed(r));
  if (r.truth) line('accuracy', `${accuracyLine(r.labels, r.truth)} (secure top-1 against the labels)`);
  if (r.plaintext) line('plaintext', `top-1 equal to the float32 model on ${r.plaintext.agree}/${r.images} images${r.plaintext.pixelAgreement !== undefined ? ` (every pixel), on ${(100 * r.plaintext.pixelAgreement).toFixed(2)}% of the pixels` : ''}`);
  if (r.labelsFrom) line('label map', `secure argmax at ${r.labelsFrom.join('x')}, enlarged to ${r.labelShape.slice(1).join('x')} by the client (nearest, half-pixel centres)`);
  printResults(r.results, r.skipped);
  if (layers) {
    console.log(`\n${'layer'.padEnd(28)} ${'op'.padEnd(8)} ${'bytes'.padStart(12)} ${'rounds'.padStart(6)} ${'seconds'.padStart(8)}`);
    for (const l of r.layers) console.log(`${l.name.padEnd(28)} ${l.op.padEnd(8)} ${String(l.bytes).padStart(12)} ${String(l.rounds).padStart(6)} ${l.seconds.toFixed(3).padStart(8)}`);
  }
}

/** The client of a service: what si infer prints, from the client's side of the links. */
function printClient(r: PartyReport): void {
  const line = (k: string, v: string) => console.log(`${k.padEnd(11)} ${v}`);
  const both = (p: { sent: number; received: number }) => `${fmtBytes(p.sent)} sent, ${fmtBytes(p.received)} received`;
  line('images', `${r.images} in ${r.batches} batch${r.batches === 1 ? '' : 'es'} of up to ${r.batch}`);
  line('DReLUs', `${r.drelus.toLocaleString('en-US')} per image, ${((100 * r.drelus) / r.relus).toFixed(2)}% of ${r.relus.toLocaleString('en-US')} ReLUs`);
  line('setup', `${both(r.setup)}, ${fmtSeconds(r.setup.seconds)}`);
  if (r.preprocess.sent + r.preprocess.received) line('preprocess', `${both(r.preprocess)}, ${fmtSeconds(r.preprocess.seconds)} (input-independent)`);
  line('online', `${both(r.online)}, ${r.online.rounds} rounds per batch, ${fmtSeconds(r.online.seconds)} (${fmtSeconds(r.online.seconds / r.images)}/image)`);
  line('revealed', revealed(r));
  if (r.truth) line('accuracy', `${accuracyLine(r.labels!, r.truth)} (secure top-1 against the labels)`);
  printResults(r.results!, r.skipped);
}

function printParty(r: PartyReport): void {
  console.log(`${r.role}: ${r.images} images, sent ${fmtBytes(r.setup.sent)} in setup and ${fmtBytes(r.online.sent)} online (${fmtSeconds(r.online.seconds)}); revealed ${revealed(r)}`);
  if (r.results) printResults(r.results, r.skipped);
  if (r.labels && r.truth) console.log(`accuracy: ${accuracyLine(r.labels, r.truth)}`);
}

/** One line per image (up to 32): its name, then the label and class (top-k, score, or a segmentation's classes). */
function printResults(results: readonly ImageResult[], skipped: readonly { image: string; error: string }[] = []): void {
  const shown = results.slice(0, 32);
  const w = Math.min(40, Math.max(5, ...shown.map((r) => r.image.length)));
  const what = (r: ImageResult) => {
    if (r.classes) {
      const total = r.classes.reduce((s, c) => s + c.pixels, 0);
      return r.classes.slice(0, 4).map((c) => `${c.class} ${((100 * c.pixels) / total).toFixed(1)}%`).join(', ') + (r.classes.length > 4 ? `, and ${r.classes.length - 4} more classes` : '');
    }
    if (r.top) return r.top.map((t) => `${t.label} ${t.class}`).join(' · ');
    return `${String(r.label).padStart(4)}  ${r.class}${r.score !== undefined ? `  (logit ${r.score.toFixed(3)})` : ''}`;
  };
  console.log('');
  for (const r of shown) console.log(`${r.image.padEnd(w)}  ${what(r)}`);
  if (results.length > shown.length) console.log(`... and ${results.length - shown.length} more images (--json or --out for all)`);
  for (const s of skipped) console.log(`skipped: ${s.error}`);
}

await program.parseAsync();
