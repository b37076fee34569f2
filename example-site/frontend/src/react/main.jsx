// Entry point of the React demo page (/react/).
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { create } from '/jsglue/jwtfetch.js'
import { JwtFetchProvider } from 'jwtfetch/react'
import { config, tracked } from '../shared/demo.js'
import { App } from './App.jsx'

// Counts instances (window.__jwtfetchInstances) and exposes the live one as
// window.api, for the end-to-end tests and for playing in the console.
function createInstance(cfg) {
  const api = tracked(create(cfg))
  window.api = api
  const destroy = api.destroy
  api.destroy = () => {
    if (window.api === api) delete window.api
    destroy()
  }
  return api
}

createRoot(document.getElementById('app')).render(
  <StrictMode>
    <JwtFetchProvider config={config} createInstance={createInstance}>
      <App />
    </JwtFetchProvider>
  </StrictMode>,
)
