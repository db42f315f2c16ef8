// The journal arrives with issue 3.
