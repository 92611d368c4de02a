// The browser app's own behaviour, served from /assets/app/ (no inline script: the CSP allows
// only this app's files).
