// prepack: npm runs this before `npm pack` and `npm publish`. It stops a
// tarball from being made without the build outputs, which are not in git:
// the package would install fine and fail only in the browser.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const missing = ['jwtfetch.wasm', 'wasm_exec.js'].filter((f) => !existsSync(join(here, f)))
if (missing.length > 0) {
  console.error(`jwtfetch: ${missing.join(' and ')} missing next to package.json; run \`make build\` first`)
  process.exit(1)
}
