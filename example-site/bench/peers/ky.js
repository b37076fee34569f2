// Entry for the ky bundle (what an app ships for it).
export { default as ky } from 'ky'
