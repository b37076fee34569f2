// Bundles the Vue and React demo pages into example-site/web/{vue,react}/
// with esbuild:
//
//	src/vue/main.js    → ../web/vue/app.js        (production, minified)
//	src/react/main.jsx → ../web/react/app.js      (production, minified)
//	src/react/main.jsx → ../web/react/app.dev.js  (React's development build,
//	                     where StrictMode runs effects twice; for the tests)
//
// The pages use the package's bindings, jwtfetch/vue and jwtfetch/react,
// bundled from jsglue/ (this checkout's, not a copy in node_modules). The
// core module is not bundled: the pages and the bindings import it from the
// URL /jsglue/jwtfetch.js, where the demo server serves the freshly built
// module next to its wasm, so the page has one instance of it. Run with
// `node build.mjs` after `npm ci`.
import * as esbuild from 'esbuild'
import { dirname, join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const web = join(here, '..', 'web')
const jsglue = join(here, '..', '..', 'jsglue')
const core = '/jsglue/jwtfetch.js'

// jwtfetchPackage resolves the package's names the way an installed
// package would be, but to this checkout's jsglue/:
//
//	jwtfetch/vue, jwtfetch/react        → jsglue/vue.js, jsglue/react.js
//	./jwtfetch.js (in jsglue/), /jsglue/jwtfetch.js → the external URL /jsglue/jwtfetch.js
//	react, vue, … imported by jsglue/   → this folder's node_modules, the
//	                                      same copy the pages use
const jwtfetchPackage = {
  name: 'jwtfetch-package',
  setup(build) {
    const inPackage = (importer) => importer.startsWith(jsglue + sep)
    build.onResolve({ filter: /^jwtfetch\/(vue|react)$/ }, (args) => ({
      path: join(jsglue, `${args.path.slice('jwtfetch/'.length)}.js`),
    }))
    build.onResolve({ filter: /^\/jsglue\/jwtfetch\.js$/ }, () => ({ path: core, external: true }))
    build.onResolve({ filter: /^\.\/jwtfetch\.js$/ }, (args) =>
      inPackage(args.importer) ? { path: core, external: true } : undefined,
    )
    build.onResolve({ filter: /^[^./]/ }, (args) =>
      inPackage(args.importer) ? build.resolve(args.path, { kind: args.kind, resolveDir: here }) : undefined,
    )
  },
}

const common = {
  absWorkingDir: here,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  plugins: [jwtfetchPackage],
  sourcemap: 'linked',
  logLevel: 'warning',
}

const production = { 'process.env.NODE_ENV': '"production"' }

const builds = [
  {
    entryPoints: ['src/vue/main.js'],
    outfile: join(web, 'vue', 'app.js'),
    minify: true,
    // Vue's bundler build reads these flags; see
    // https://vuejs.org/api/compile-time-flags.html
    define: {
      ...production,
      __VUE_OPTIONS_API__: 'true',
      __VUE_PROD_DEVTOOLS__: 'false',
      __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    },
  },
  {
    entryPoints: ['src/react/main.jsx'],
    outfile: join(web, 'react', 'app.js'),
    minify: true,
    jsx: 'automatic',
    define: production,
  },
  {
    entryPoints: ['src/react/main.jsx'],
    outfile: join(web, 'react', 'app.dev.js'),
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"development"' },
  },
]

const results = await Promise.all(builds.map((b) => esbuild.build({ ...common, ...b, metafile: true })))
for (const { metafile } of results) {
  for (const [file, { bytes }] of Object.entries(metafile.outputs)) {
    if (!file.endsWith('.map')) console.log(`${file}  ${(bytes / 1024).toFixed(1)} KB`)
  }
}
