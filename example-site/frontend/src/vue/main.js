// Entry point of the Vue demo page (/vue/).
import { createApp, nextTick } from 'vue'
import { createJwtFetch } from 'jwtfetch/vue'
import { config, tracked } from '../shared/demo.js'
import App from './App.js'

const jwtfetch = createJwtFetch(config)
// Exposed for the end-to-end tests and for playing in the console.
window.api = tracked(jwtfetch.api)

createApp(App).use(jwtfetch).mount('#app')

// The tests wait for this: the runtime is ready and the page shows it.
jwtfetch.api.ready.then(async () => {
  await nextTick()
  document.body.dataset.ready = 'true'
})
