// The pure domain arrives with issue 5.
