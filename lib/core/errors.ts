// The errors live in a leaf module that the core and the hash ring both
// import (lib/hashring must not import lib/core); this keeps every existing
// `core/errors.js` import working.
export * from '../errors.js';
