// The HTTP server arrives with issue 4.
