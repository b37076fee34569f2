// Entry for the axios + axios-auth-refresh bundle (what an app ships for it).
export { default as axios } from 'axios'
export { createAuthRefresh } from 'axios-auth-refresh'
