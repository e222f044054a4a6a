// Bundles the page for browsers with esbuild into dist/page/: app.js (the page, src/page.ts), worker.js
// (the client party, src/worker.ts), index.html and the ring kernels (kernels.wasm). Platform seam: a module X.ts with a sibling X.browser.ts is replaced by it
// (ring's wasm loader and pool, sharing's crypto, net's index), so no node: module is on the page's path;
// the build fails if one is.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'page');
mkdirSync(out, { recursive: true });

const browserVariants = {
  name: 'browser-variants',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      const alt = args.path.replace(/\.ts$/, '.browser.ts');
      if (args.path.endsWith('.browser.ts') || !existsSync(alt)) return undefined;
      return { contents: readFileSync(alt, 'utf8'), loader: 'ts', resolveDir: dirname(alt) };
    });
    b.onResolve({ filter: /^node:/ }, (args) => ({ errors: [{ text: `${args.path} imported by ${args.importer}: the page must not need Node modules` }] }));
  },
};

const result = await build({
  entryPoints: { app: join(root, 'src', 'page.ts'), worker: join(root, 'src', 'worker.ts') }, bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
  conditions: ['@si/source'], outdir: out, minify: true, sourcemap: false, metafile: true, plugins: [browserVariants], logLevel: 'warning',
});
copyFileSync(join(root, 'page', 'index.html'), join(out, 'index.html'));
copyFileSync(join(root, '..', 'ring', 'dist', 'kernels.wasm'), join(out, 'kernels.wasm'));
const kb = (f) => Math.round(statSync(join(out, f)).size / 1024);
console.log(`@si/web: dist/page/app.js ${kb('app.js')} KiB, worker.js ${kb('worker.js')} KiB (the client party), ${Object.keys(result.metafile.inputs).length} modules`);
