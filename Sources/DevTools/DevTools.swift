// The DevTools client arrives with issue 7.
