// Entry for the axios + axios-jwt bundle (what an app ships for it).
export { default as axios } from 'axios'
export { applyAuthTokenInterceptor, setAuthTokens } from 'axios-jwt'
