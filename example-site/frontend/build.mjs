// Bundles the Vue and React demo pages into example-site/web/{vue,react}/
// with esbuild:
//
//	src/vue/main.js    → ../web/vue/app.js        (production, minified)
//	src/react/main.jsx → ../web/react/app.js      (production, minified)
//	src/react/main.jsx → ../web/react/app.dev.js  (React's development build,
//	                     where StrictMode runs effects twice; for the tests)
//
// jwtfetch itself is not bundled: the pages import it from the URL
// /jsglue/jwtfetch.js, where the demo server serves the freshly built module
// and wasm. Run with `node build.mjs` after `npm ci`.
import * as esbuild from 'esbuild'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const web = join(here, '..', 'web')

const common = {
  absWorkingDir: here,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  // Resolved by the browser at run time, next to jwtfetch.wasm.
  external: ['/jsglue/jwtfetch.js'],
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
